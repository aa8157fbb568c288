// mcp-remote, the stdio bridge desktop clients use for remote servers, run as
// they run it: the SDK client speaks stdio to it, and it does OAuth against our
// server. It "opens" the login page through BROWSER (bin/open-url), which drops
// the URL into an inbox file that the suite's real browser then visits.
import { createWriteStream, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ARTIFACTS, E2E_DIR, freePort, sleep, tempDir } from './harness.mjs';

const PROXY = join(E2E_DIR, 'node_modules', 'mcp-remote', 'dist', 'proxy.js');

/**
 * Starts mcp-remote for mcpURL under an SDK stdio client (transport: its
 * --transport, e.g. sse-only; default: its own choice). Returns the client
 * promise (resolves once mcp-remote has its token and answered initialize),
 * the next URL it opens, and its log.
 */
export async function startMcpRemote({ mcpURL, name, transport: transportName }) {
  const configDir = tempDir('mcp-remote');
  const inbox = join(configDir, 'browser-inbox.txt');
  writeFileSync(inbox, '');
  const logPath = join(ARTIFACTS, `${name}.log`);
  const log = createWriteStream(logPath);
  let text = '';
  const callbackPort = await freePort();
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [PROXY, mcpURL, String(callbackPort), '--allow-http', '--host', '127.0.0.1', '--debug', ...(transportName ? ['--transport', transportName] : [])],
    env: {
      ...process.env,
      MCP_REMOTE_CONFIG_DIR: configDir,
      BROWSER: join(E2E_DIR, 'bin', 'open-url'),
      E2E_BROWSER_INBOX: inbox,
      // No desktop: xdg-open must take BROWSER, not look for one.
      DISPLAY: '',
      WAYLAND_DISPLAY: '',
      XDG_CURRENT_DESKTOP: '',
    },
    stderr: 'pipe',
  });
  transport.stderr.on('data', (d) => {
    log.write(d);
    text += d;
  });
  const client = new Client({ name: 'keboola-mcp-e2e-via-mcp-remote', version: '1.0.0' });
  const connected = client.connect(transport);
  // Awaited by the test's step; a failure before that step must not surface
  // as an unhandled rejection that hides the step's own message.
  connected.catch(() => {});
  return {
    client,
    connected,
    configDir,
    logPath,
    proc: { name, logPath, tail: (n = 40) => text.split('\n').slice(-n).join('\n') },
    /** Waits until mcp-remote has opened a URL in the "browser". */
    async openedURL(seconds = 60) {
      const deadline = Date.now() + seconds * 1000;
      while (Date.now() < deadline) {
        const line = existsSync(inbox) ? readFileSync(inbox, 'utf8').split('\n').find(Boolean) : '';
        if (line) return new URL(line);
        await sleep(200);
      }
      throw new Error(`mcp-remote opened no URL within ${seconds}s`);
    },
    /** Files mcp-remote wrote under its config dir (names only). */
    storedFiles() {
      const dir = join(configDir, 'mcp-remote-v1');
      return existsSync(dir) ? readdirSync(dir) : [];
    },
    async close() {
      await client.close().catch(() => {});
      log.end();
    },
  };
}

// The MCP Inspector in CLI mode (@modelcontextprotocol/inspector, the
// `--cli` entry of the inspector), run once per call as a person would from a
// shell; its stdout is the JSON answer.
import { execFile } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACTS, E2E_DIR } from './harness.mjs';

const CLI = join(E2E_DIR, 'node_modules', '@modelcontextprotocol', 'inspector', 'cli', 'build', 'cli.js');

/**
 * Runs `inspector --cli <target...> <args...>` and parses its JSON output.
 * Output and errors are appended to artifacts/<logName>.log.
 */
export function inspect(target, args, { env = {}, logName = 'inspector', seconds = 60 } = {}) {
  const argv = [CLI, '--cli', ...target, ...args];
  return new Promise((ok, fail) => {
    execFile(
      process.execPath,
      argv,
      { env: { ...process.env, ...env }, timeout: seconds * 1000, killSignal: 'SIGKILL', maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        appendFileSync(join(ARTIFACTS, `${logName}.log`), `$ inspector ${args.join(' ')}\n${stdout}\n${stderr}\n`);
        if (err) {
          fail(new Error(`inspector ${args.join(' ')} failed (${err.code ?? err.signal}): ${stderr.slice(-1500)}`));
          return;
        }
        try {
          ok(JSON.parse(stdout));
        } catch {
          fail(new Error(`inspector printed no JSON: ${stdout.slice(0, 500)} ${stderr.slice(-500)}`));
        }
      },
    );
  });
}

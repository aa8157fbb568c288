// The entry of a Worker that serves MCP by proxy to a native `keboola-mcp
// serve --auth proxy` (wrangler.proxy.jsonc, the containers variant): the
// login-only Go build (make worker, -tags proxyonly), a third of the full
// one, which keeps the Worker under the Free plan's 3 MiB.
import goBuild from '../build/keboola-mcp-login.wasm';
import { useGoBuild } from './wasm';

useGoBuild(goBuild);

export * from './index';
export { default } from './index';

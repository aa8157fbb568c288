// The Worker's entry (wrangler.jsonc): the Go build with the MCP server, so
// /mcp is served in this isolate (or proxied when MCP_ORIGIN is set).
import goBuild from '../build/keboola-mcp.wasm';
import { useGoBuild } from './wasm';

useGoBuild(goBuild);

export * from './index';
export { default } from './index';

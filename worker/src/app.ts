// The Worker's own pages, behind the OAuth provider: the login + consent
// page, the Keboola sign-in callback, health and the landing page.
import type { Env } from './config';
import { authorize, page, upstreamCallback } from './oauth';
import { text } from './proxy';

export const appHandler: ExportedHandler<Env> = {
  async fetch(request, env) {
    const url = new URL(request.url);
    switch (url.pathname) {
      case '/authorize':
        return authorize(request, env);
      case '/oauth/callback':
        return upstreamCallback(request, env);
      case '/healthz':
        return text(200, 'ok');
      case '/':
        return page(200, 'Keboola MCP server', `<p>Add <code>${url.origin}/mcp</code> to your MCP client as a remote server.</p>`);
      default:
        return text(404, 'not found');
    }
  },
};

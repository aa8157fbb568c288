// The Containers variant's entry: the same Worker (OAuth, login, consent),
// with MCP requests forwarded to the native server in a Cloudflare Container
// instead of the wasm build. The container runs `keboola-mcp serve --auth
// proxy` and trusts only requests signed with MCP_PROXY_SECRET.
import { Container, getContainer } from '@cloudflare/containers';
import worker from '../src/main-proxy';
import type { Env } from '../src/config';
import { SseSession as WasmSseSession } from '../src/sse';

export { GrantGate, RegisterLimit } from '../src/index';

interface ContainerEnv extends Env {
  MCP_CONTAINER: DurableObjectNamespace<KeboolaMCPContainer>;
}

export class KeboolaMCPContainer extends Container<ContainerEnv> {
  defaultPort = 8000;
  // Stateless server: an idle container may stop; the next request starts it.
  sleepAfter = '15m';

  constructor(ctx: DurableObjectState<{}>, env: ContainerEnv) {
    super(ctx, env);
    this.envVars = {
      KEBOOLA_MCP_ADDR: '0.0.0.0:8000',
      KEBOOLA_MCP_AUTH: 'proxy',
      KEBOOLA_MCP_PROXY_SECRET: env.MCP_PROXY_SECRET ?? '',
      KEBOOLA_MCP_STACK: env.KEBOOLA_STACKS ?? '',
    };
  }
}

/** An SSE session whose messages go to the container, like /mcp's. */
export class SseSession extends WasmSseSession {
  constructor(ctx: DurableObjectState, env: ContainerEnv) {
    super(ctx, { ...env, MCP_UPSTREAM: getContainer(env.MCP_CONTAINER) });
  }
}

export default {
  fetch(request: Request, env: ContainerEnv, ctx: ExecutionContext): Promise<Response> {
    // One named instance: the native server's nonce cache then sees every request.
    return worker.fetch(request, { ...env, MCP_UPSTREAM: getContainer(env.MCP_CONTAINER) }, ctx);
  },
} satisfies ExportedHandler<ContainerEnv>;

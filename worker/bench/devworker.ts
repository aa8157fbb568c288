// Starts a Worker as `wrangler dev` does, but without the DevTools
// inspector: wrangler dev always attaches one and enables its Network
// domain, so every fetch() the Worker makes is reported to wrangler's
// inspector proxy and to wrangler itself (four messages a fetch, each
// parsed and logged), which a deployed Worker does not pay. The benchmark
// starts its Workers with this, to time what production runs.
//
//   node --import tsx bench/devworker.ts CONFIG PORT PERSIST_DIR [KEY:VALUE…]
import { unstable_startWorker } from 'wrangler';

const [config, port, persist, ...vars] = process.argv.slice(2);
const bindings: Record<string, { type: 'plain_text'; value: string }> = {};
for (const kv of vars) {
  const i = kv.indexOf(':');
  bindings[kv.slice(0, i)] = { type: 'plain_text', value: kv.slice(i + 1) };
}
const worker = await unstable_startWorker({
  config,
  bindings,
  dev: { inspector: false, server: { hostname: '127.0.0.1', port: Number(port) }, persist, watch: false, logLevel: 'warn' },
});
await worker.ready;
const stop = () => void worker.dispose().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

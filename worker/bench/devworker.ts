// Starts a Worker as `wrangler dev` does, but without the DevTools
// inspector: wrangler dev always attaches one and enables its Network
// domain, so every fetch() the Worker makes is reported to wrangler's
// inspector proxy and to wrangler itself (four messages a fetch, each
// parsed and logged), which a deployed Worker does not pay. The benchmark
// starts its Workers with this, to time what production runs.
//
// It also prints where the Worker itself listens, as a line
// `direct {"url":…,"headers":{…}}`: wrangler dev puts a proxy Worker, in a
// workerd of its own, in front of it (to hold requests while it reloads),
// and that hop cost about 1.2 ms a request here. A request sent straight to
// the Worker with those headers and MF-Original-URL set to the public URL
// is served as if it had come through the proxy; nothing in production has
// that hop, so the benchmark times its Workers that way.
//
//   node --import tsx bench/devworker.ts CONFIG PORT PERSIST_DIR [KEY:VALUE…]
import { unstable_DevEnv } from 'wrangler';

const [config, port, persist, ...vars] = process.argv.slice(2);
const bindings: Record<string, { type: 'plain_text'; value: string }> = {};
for (const kv of vars) {
  const i = kv.indexOf(':');
  bindings[kv.slice(0, i)] = { type: 'plain_text', value: kv.slice(i + 1) };
}
const devEnv = new unstable_DevEnv();
const toProxy = devEnv.proxy.onReloadComplete.bind(devEnv.proxy);
devEnv.proxy.onReloadComplete = (event) => {
  const { userWorkerUrl: u, headers } = event.proxyData;
  console.log(`direct ${JSON.stringify({ url: `${u.protocol}//${u.hostname}:${u.port}`, headers })}`);
  toProxy(event);
};
const worker = await devEnv.startWorker({
  config,
  bindings,
  dev: { inspector: false, server: { hostname: '127.0.0.1', port: Number(port) }, persist, watch: false, logLevel: 'warn' },
});
await worker.ready;
const stop = () => void worker.dispose().finally(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

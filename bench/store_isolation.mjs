// Does disk work stall the network threads? Measures GET /healthz latency alone, then while
// 64 concurrent clients keep writing files (each write part of an fsynced, group-committed
// transaction). Usage: node bench/store_isolation.mjs [seconds]
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { startServer, token, request, percentile, sleep } from './lib.mjs';

// The writers run on a worker thread with its own event loop, so that their load does not
// delay the probe's own requests in this thread.
async function writers({ url, tok, projectId }) {
  let running = true;
  let writes = 0;
  parentPort.on('message', (m) => { if (m === 'stop') running = false; });
  const content = 'x'.repeat(2000);
  await Promise.all(Array.from({ length: 64 }, async (_, w) => {
    let i = 0;
    while (running) {
      const r = await request(`${url}/api/projects/${projectId}/files/content`, 'PUT', tok,
        { path: `w${w}/f${i++ % 50}.txt`, content });
      if (r.status !== 200) throw new Error(`write failed: ${r.status}`);
      if (++writes % 200 === 0) parentPort.postMessage(writes);
    }
  }));
  parentPort.postMessage(writes);
  process.exit(0);
}

async function probe(url, ms) {
  const lat = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    lat.push((await request(`${url}/healthz`, 'GET')).ms);
    await sleep(2);
  }
  return lat;
}

async function main() {
  const seconds = Number(process.argv[2] ?? 5);
  const server = await startServer();
  const tok = token(server.secret, 'bench');
  const { body: { projectId } } = await request(`${server.url}/api/projects`, 'POST', tok, { name: 'bench' });

  const idle = await probe(server.url, seconds * 1000);
  let writes = 0;
  const worker = new Worker(new URL(import.meta.url), { workerData: { url: server.url, tok, projectId } });
  worker.on('message', (n) => { writes = n; });
  await sleep(1000);
  const w0 = writes;
  const loaded = await probe(server.url, seconds * 1000);
  const w1 = writes;
  worker.postMessage('stop');
  await new Promise((r) => worker.on('exit', r));
  server.proc.kill('SIGTERM');

  const fmt = (l) => `p50 ${percentile(l, 50).toFixed(2)} ms, p99 ${percentile(l, 99).toFixed(2)} ms, max ${Math.max(...l).toFixed(2)} ms (n=${l.length})`;
  console.log(`healthz, idle:              ${fmt(idle)}`);
  console.log(`healthz, 64 writers active: ${fmt(loaded)}`);
  console.log(`durable file writes:        ${Math.round((w1 - w0) / seconds)} /s`);
}

if (isMainThread) await main(); else await writers(workerData);

// Does disk work stall the network threads? Measures GET /healthz latency alone, then while
// 64 concurrent clients keep writing files (each write an fsynced, group-committed
// transaction). Usage: node bench/store_isolation.mjs [seconds]
import { startServer, token, request, percentile, sleep } from './lib.mjs';

const seconds = Number(process.argv[2] ?? 5);
const server = await startServer();
const tok = token(server.secret, 'bench');
const { body: { projectId } } = await request(`${server.url}/api/projects`, 'POST', tok, { name: 'bench' });

async function probe(ms) {
  const lat = [];
  const end = Date.now() + ms;
  while (Date.now() < end) {
    lat.push((await request(`${server.url}/healthz`, 'GET')).ms);
    await sleep(2);
  }
  return lat;
}

const idle = await probe(seconds * 1000);
let writes = 0;
let running = true;
const content = 'x'.repeat(2000);
const writers = Array.from({ length: 64 }, async (_, w) => {
  let i = 0;
  while (running) {
    const r = await request(`${server.url}/api/projects/${projectId}/files/content`, 'PUT', tok,
      { path: `w${w}/f${i++ % 50}.txt`, content });
    if (r.status !== 200) throw new Error(`write failed: ${r.status}`);
    writes++;
  }
});
await sleep(500);
const w0 = writes;
const loaded = await probe(seconds * 1000);
const w1 = writes;
running = false;
await Promise.all(writers);
server.proc.kill('SIGTERM');

const fmt = (l) => `p50 ${percentile(l, 50).toFixed(2)} ms, p99 ${percentile(l, 99).toFixed(2)} ms, max ${Math.max(...l).toFixed(2)} ms (n=${l.length})`;
console.log(`healthz, idle:              ${fmt(idle)}`);
console.log(`healthz, 64 writers active: ${fmt(loaded)}`);
console.log(`durable file writes:        ${Math.round((w1 - w0) / seconds)} /s`);

// POST /api/messages acknowledgement latency while many runs stream, and the delay from a
// provider token to the stored message. Usage:
//   node bench/messages_load.mjs [streaming_runs=256] [post_rate=1000] [seconds=10]
// 1. `streaming_runs` runs stream slowly from the scripted provider (sticky slow text step).
// 2. POSTs arrive at `post_rate`/s, each into its own idle project, for `seconds`.
// 3. The delay from a provider token to the stored message (see below).
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { startMock, startServer, token, request, percentile, sleep } from './lib.mjs';

const streaming = Number(process.argv[2] ?? 256);
const rate = Number(process.argv[3] ?? 1000);
const seconds = Number(process.argv[4] ?? 10);
const mock = await startMock();
await request(`${mock.url}/_mock/script`, 'POST', null, {
  reset: true, steps: [{ type: 'text', text: 'word '.repeat(600), chunks: 600, delayMs: 100, sticky: true }],
});
const server = await startServer({ OPENROUTER_API_KEY: 'bench', OPENROUTER_BASE_URL: `${mock.url}/v1` },
  ['--max-runs', String(streaming)]);
const tok = token(server.secret, 'bench');

async function freshConversation() {
  const p = await request(`${server.url}/api/projects`, 'POST', tok, { name: 'p' });
  const c = await request(`${server.url}/api/conversations`, 'POST', tok, { projectId: p.body.projectId, title: 'bench' });
  return c.body.conversationId;
}
async function prepare(n) {
  const out = [];
  for (let i = 0; i < n; i += 64) {
    out.push(...await Promise.all(Array.from({ length: Math.min(64, n - i) }, freshConversation)));
  }
  return out;
}

console.log(`preparing ${streaming} streaming runs and ${rate * seconds} idle conversations...`);
const background = await prepare(streaming);
const targets = await prepare(rate * seconds);
for (const c of background) await request(`${server.url}/api/messages`, 'POST', tok, { conversationId: c, message: 'stream' });
await sleep(2000);
const metrics = await (await fetch(`${server.url}/metrics`)).text();
console.log(metrics.split('\n').filter((l) => l.startsWith('polaris_runs{')).join('\n'));

const lat = [];
let errors = 0;
const loopDelay = monitorEventLoopDelay({ resolution: 1 });
loopDelay.enable();
const started = Date.now();
const inflight = [];
for (let i = 0; i < targets.length; i++) {
  const due = started + (i * 1000) / rate;
  const wait = due - Date.now();
  if (wait > 0) await sleep(wait);
  inflight.push(request(`${server.url}/api/messages`, 'POST', tok, { conversationId: targets[i], message: 'hi' })
    .then((r) => { if (r.status === 200) lat.push(r.ms); else errors++; }));
}
await Promise.all(inflight);
const elapsed = (Date.now() - started) / 1000;
loopDelay.disable();
console.log(`POST /api/messages at ${rate}/s target while ${streaming} runs stream: ` +
  `${(lat.length / elapsed).toFixed(0)} acks/s, p50 ${percentile(lat, 50).toFixed(2)} ms, ` +
  `p99 ${percentile(lat, 99).toFixed(2)} ms, max ${Math.max(...lat).toFixed(2)} ms, errors ${errors}`);
// The load generator's own event-loop delay is part of every latency above (it shares the cores).
console.log(`  load generator event-loop delay: p50 ${(loopDelay.percentile(50) / 1e6).toFixed(2)} ms, ` +
  `p99 ${(loopDelay.percentile(99) / 1e6).toFixed(2)} ms, max ${(loopDelay.max / 1e6).toFixed(2)} ms`);
server.proc.kill('SIGTERM');
await new Promise((r) => server.proc.on('exit', r));  // keep the next part on a quiet machine

// Token-to-store delay: a tiny provider in this process streams 50 tokens 100 ms apart, each
// carrying the time it was sent; polling the message every 5 ms gives, per token, the delay
// until it is visible through the API (an upper bound: it includes the polling interval).
const provider = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'text/event-stream' });
  let k = 0;
  const chunk = (delta, finish) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
  const timer = setInterval(() => {
    if (k++ < 50) { res.write(chunk({ content: `[${Date.now()}]` }, null)); return; }
    clearInterval(timer);
    res.end(chunk({}, 'stop') + 'data: [DONE]\n\n');
  }, 100);
  req.on('close', () => clearInterval(timer));
});
await new Promise((r) => provider.listen(0, '127.0.0.1', r));
const quiet = await startServer({ OPENROUTER_API_KEY: 'bench', OPENROUTER_BASE_URL: `http://127.0.0.1:${provider.address().port}/v1` });
const qt = token(quiet.secret, 'bench');
const p = await request(`${quiet.url}/api/projects`, 'POST', qt, { name: 'p' });
const c = await request(`${quiet.url}/api/conversations`, 'POST', qt, { projectId: p.body.projectId, title: 't' });
const post = await request(`${quiet.url}/api/messages`, 'POST', qt, { conversationId: c.body.conversationId, message: 'go' });
const firstSeen = new Map();
const t0 = Date.now();
while (Date.now() - t0 < 20000) {
  const r = await request(`${quiet.url}/api/conversations/${c.body.conversationId}/messages`, 'GET', qt);
  const now = Date.now();
  const m = r.body.find((x) => x._id === post.body.messageId);
  for (const [, sent] of m.content.matchAll(/\[(\d+)\]/g)) if (!firstSeen.has(sent)) firstSeen.set(sent, now - Number(sent));
  if (m.status !== 'processing') break;
  await sleep(5);
}
const delays = [...firstSeen.values()];
console.log(`provider token -> stored message (visible via GET), ${delays.length} tokens: ` +
  `p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, max ${Math.max(...delays)} ms`);
quiet.proc.kill('SIGTERM');
provider.close();
mock.proc.kill('SIGTERM');

// make bench, part 2: a provider's token stream as a client sees it, through Polaris and
// through the Portkey AI gateway (@portkey-ai/gateway, pinned in bench/package.json, patched by
// bench/patch-portkey.mjs), from the same scripted provider (`polaris mock-llm`) with the same
// script, plus the provider read directly (no relay) as the floor.
//
// Paths (one stream at a time, interleaved round by round):
//   direct   client -> mock-llm                       POST /v1/chat/completions, stream:true
//   portkey  client -> gateway -> mock-llm            the same request, x-portkey-provider: openai,
//                                                     x-portkey-custom-host: the mock
//   portkey (no first-chunk sleep): the same gateway without its 25 ms sleep before the first chunk
//   polaris  client -> Polaris -> mock-llm            the client watches GET
//            /api/conversations/:id/events (SSE) and POSTs /api/messages; Polaris' run streams
//            the provider's answer into the message and out over SSE
// Scripts (a sticky mock step, so every request gets the same answer):
//   paced  TOKENS_P tokens GAP ms apart (a model's pace): time to first token (request sent ->
//          first text seen), time to the last token, and their excess over the direct path
//   burst  TOKENS_B tokens back to back: relay throughput (tokens/s between the first and the
//          last token) and the whole stream's time
// The clock starts when the client sends its request (for Polaris, the POST; the SSE stream is
// already open). Each token is 8 characters ("t0001 " style), one per chunk.
// Usage: node bench/stream_relay.mjs [--rounds 5] [--paced 100] [--gap 10] [--burst 2000]
import http from 'node:http';
import net from 'node:net';
import { ROOT, startPolaris, startMock, spawnListening, token, api, median, fmt, fmt0, ratio, emitMarkdown, sleep, cpuTicks } from './runall_lib.mjs';
import { sseParser } from './lib.mjs';

const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const ROUNDS = Number(arg('rounds', 5));
const TOKENS_P = Number(arg('paced', 100));
const GAP = Number(arg('gap', 10));
const TOKENS_B = Number(arg('burst', 2000));
const TIMEOUT_MS = 30_000;

const tokens = (n) => Array.from({ length: n }, (_, i) => `t${String(i).padStart(5, '0')} `);
const SCRIPTS = {
  paced: { n: TOKENS_P, text: tokens(TOKENS_P).join(''), step: { type: 'text', text: tokens(TOKENS_P).join(''), chunks: TOKENS_P, delayMs: GAP, sticky: true } },
  burst: { n: TOKENS_B, text: tokens(TOKENS_B).join(''), step: { type: 'text', text: tokens(TOKENS_B).join(''), chunks: TOKENS_B, delayMs: 0, sticky: true } },
};

const mock = await startMock();
const gwDir = `${ROOT}/bench/node_modules/@portkey-ai/gateway/build`;
const gwEnv = { ...process.env, NODE_ENV: 'production' };
const freePort = () => new Promise((resolve) => { const s = net.createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
async function startGateway(file, label) {
  // The gateway takes --port=N (it has no "any free port"), listens on every address and
  // prints "running at: http://localhost:N".
  const g = await spawnListening(process.execPath, [`${gwDir}/${file}`, `--port=${await freePort()}`, '--headless'], { env: gwEnv, re: /running at:[\s\S]*?localhost:(\d+)/ });
  g.label = label;
  return g;
}
const gateways = [await startGateway('start-server.js', 'portkey'), await startGateway('start-server.nodelay.js', 'portkey (no first-chunk sleep)')];
const polaris = await startPolaris({ OPENROUTER_API_KEY: 'bench', OPENROUTER_BASE_URL: mock.v1, POLARIS_MESSAGES_PER_MINUTE: '100000', POLARIS_MAX_MESSAGES_PER_CONVERSATION: '100000' });
const tok = token(polaris.secret, 'bench-stream');
const { projectId } = await api(polaris.url, tok, 'POST', '/api/projects', { name: 'stream' });

// ------------------------------------------------------------------ one stream through an OpenAI-style relay

function relayStream(url, headers, expected) {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ model: 'bench-model', stream: true, messages: [{ role: 'user', content: 'stream please' }] });
    const t0 = performance.now();
    let first = null;
    let last = null;
    let text = '';
    const feed = sseParser(({ data }, t) => {
      if (data === '[DONE]') return;
      let j;
      try { j = JSON.parse(data); } catch { return; }
      const c = j.choices?.[0]?.delta?.content;
      if (c) {
        text += c;
        if (first === null) first = t;
        if (text.length >= expected.length) last = t;
      }
    });
    const req = http.request(url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), authorization: 'Bearer bench', ...headers } }, (res) => {
      if (res.statusCode !== 200) { let b = ''; res.on('data', (d) => { b += d; }); res.on('end', () => reject(new Error(`${url}: HTTP ${res.statusCode} ${b.slice(0, 200)}`))); return; }
      res.setEncoding('utf8');
      res.on('data', (d) => feed(d, performance.now()));
      res.on('end', () => {
        if (text !== expected) reject(new Error(`${url}: text differs (got ${text.length} of ${expected.length} chars)`));
        else resolve({ ttft: first - t0, lastMs: last - t0, spanMs: last - first });
      });
    });
    req.setTimeout(TIMEOUT_MS, () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

// ------------------------------------------------------------------ one stream through Polaris (SSE)

function polarisStream(expected, n) {
  return new Promise(async (resolve, reject) => {
    let conversationId;
    try { ({ conversationId } = await api(polaris.url, tok, 'POST', '/api/conversations', { projectId, title: `s${n}` })); } catch (e) { reject(e); return; }
    const docs = new Map();
    let snapshot = false;
    let t0 = null;
    let first = null;
    let last = null;
    let done = false;
    const timer = setTimeout(() => { req.destroy(); reject(new Error('polaris stream: timeout')); }, TIMEOUT_MS);
    const req = http.request(`${polaris.url}/api/conversations/${conversationId}/events`, { agent: false, headers: { accept: 'text/event-stream', authorization: `Bearer ${tok}` } });
    req.on('error', (e) => { if (!done) reject(e); });
    req.on('response', (res) => {
      if (res.statusCode !== 200) { reject(new Error(`SSE: ${res.statusCode}`)); return; }
      res.setEncoding('utf8');
      const onEvent = (ev, data, t) => {
        if (ev === 'snapshot') { snapshot = true; for (const m of data) docs.set(m._id, { ...m }); return; }
        let doc;
        if (ev === 'message') { doc = { ...data }; docs.set(doc._id, doc); } else if (ev === 'delta') { doc = docs.get(data._id); if (!doc) return; doc.content += data.append; } else return;
        if (doc.role !== 'assistant' || t0 === null) return;
        if (doc.content && first === null) first = t;
        if (last === null && doc.content.length >= expected.length) last = t;
        if (doc.status && doc.status !== 'processing' && !done) {
          done = true;
          clearTimeout(timer);
          req.destroy();
          if (doc.status !== 'completed' || doc.content !== expected) reject(new Error(`polaris: message ${doc.status}, ${doc.content.length} of ${expected.length} chars ${doc.error ?? ''}`));
          else resolve({ ttft: first - t0, lastMs: last - t0, spanMs: last - first, doneMs: t - t0 });
        }
      };
      const feed = sseParser(({ event, data }, t) => onEvent(event, JSON.parse(data), t));
      res.on('data', (d) => feed(d, performance.now()));
    });
    req.end();
    while (!snapshot) { if (done) return; await sleep(2); }
    await sleep(100); // a page that was already watching
    t0 = performance.now();
    api(polaris.url, tok, 'POST', '/api/messages', { conversationId, message: 'stream please' }).catch((e) => { done = true; clearTimeout(timer); req.destroy(); reject(e); });
  });
}

// ------------------------------------------------------------------ rounds

const paths = [
  { key: 'direct', label: 'provider read directly (no relay)', run: (s) => relayStream(`${mock.v1}/chat/completions`, {}, s.text) },
  ...gateways.map((g, i) => ({ key: i === 0 ? 'portkey' : 'portkey_nodelay', label: `${g.label}, \`/v1/chat/completions\``, pid: g.pid, run: (s) => relayStream(`${g.url}/v1/chat/completions`, { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': mock.v1 }, s.text) })),
  { key: 'polaris', label: 'Polaris: POST /api/messages, reply over SSE', pid: polaris.pid, run: (s, n) => polarisStream(s.text, n) },
];
const res = {};
const cpu = {};
let n = 0;
for (const [sk, s] of Object.entries(SCRIPTS)) {
  await mock.script([s.step]);
  res[sk] = Object.fromEntries(paths.map((p) => [p.key, []]));
  cpu[sk] = Object.fromEntries(paths.map((p) => [p.key, 0]));
  for (const p of paths) await p.run(s, n++); // warm-up, not counted
  for (let r = 0; r < ROUNDS; r++) {
    for (const p of paths) {
      const c0 = p.pid ? cpuTicks(p.pid) : 0;
      const m = await p.run(s, n++);
      if (p.pid) cpu[sk][p.key] += (cpuTicks(p.pid) - c0) / 100;
      res[sk][p.key].push(m);
      console.error(`${sk} ${p.key}: first token ${m.ttft.toFixed(2)} ms, last ${m.lastMs.toFixed(1)} ms`);
      await sleep(50);
    }
  }
}
for (const g of gateways) await g.stop();
await polaris.stop();
await mock.stop();

// ------------------------------------------------------------------ report

const med = (sk, k, f) => median(res[sk][k].map((m) => m[f]));
const range = (sk, k, f, d = 1) => { const v = res[sk][k].map((m) => m[f]); return `${fmt(Math.min(...v), d)}–${fmt(Math.max(...v), d)}`; };
let md = `### Streaming: Polaris against the Portkey AI gateway (@portkey-ai/gateway 1.15.2)\n\n`;
md += `The same scripted provider (\`polaris mock-llm\`, one sticky text step) behind each path; one stream at a time, ${ROUNDS} rounds interleaved across the paths after one warm-up each; medians (min–max). The clock starts when the client sends its request (for Polaris the \`POST /api/messages\`, its SSE stream already open); "first token" is the first text seen, "last token" the moment the whole reply has been seen. The gateway runs with \`NODE_ENV=production --headless\`, patched by \`bench/patch-portkey.mjs\` (without the patch every streamed request through it fails with HTTP 500); the "no first-chunk sleep" row also drops the 25 ms the gateway waits before relaying the first chunk. Polaris does more per reply than a relay: it stores the user's message and the reply (durable), builds the prompt from the conversation, and keeps the stored message up to date while it streams. Server CPU is the relay's utime+stime per stream.\n\n`;
const P = SCRIPTS.paced; const Bu = SCRIPTS.burst;
md += `**Paced: ${P.n} tokens ${GAP} ms apart** (the provider's stream takes ≥ ${((P.n - 1) * GAP / 1000).toFixed(2)} s)\n\n`;
md += `| path | first token | ratio to portkey | last token | CPU per stream |\n| --- | --- | --- | --- | --- |\n`;
for (const p of paths) {
  md += `| ${p.label} | **${fmt(med('paced', p.key, 'ttft'), 2)} ms** (${range('paced', p.key, 'ttft', 2)}) | ${p.key === 'direct' ? '—' : ratio(med('paced', p.key, 'ttft'), med('paced', 'portkey', 'ttft'))} | ${fmt(med('paced', p.key, 'lastMs'), 1)} ms (${range('paced', p.key, 'lastMs')}) | ${p.pid ? `${fmt((cpu.paced[p.key] / ROUNDS) * 1000, 0)} ms` : '—'} |\n`;
}
md += `\nThe last token's time is the provider's own pacing (its timer, ${GAP} ms a chunk) plus the relay; its spread between rounds is mostly the provider's timers on this busy machine, so compare the first token here and the throughput below.\n`;
md += `\n**Burst: ${Bu.n} tokens back to back** (${(Bu.text.length / 1024).toFixed(0)} KiB of text in ${Bu.n} chunks)\n\n`;
md += `| path | first token | last token | tokens/s (first → last) | ratio to portkey | CPU per stream |\n| --- | --- | --- | --- | --- | --- |\n`;
const tps = (k) => median(res.burst[k].map((m) => (Bu.n - 1) / (m.spanMs / 1000)));
for (const p of paths) {
  md += `| ${p.label} | ${fmt(med('burst', p.key, 'ttft'), 2)} ms | ${fmt(med('burst', p.key, 'lastMs'), 1)} ms (${range('burst', p.key, 'lastMs')}) | ${fmt0(tps(p.key))} | ${p.key === 'direct' ? '—' : ratio(tps(p.key), tps('portkey'))} | ${p.pid ? `${fmt((cpu.burst[p.key] / ROUNDS) * 1000, 0)} ms` : '—'} |\n`;
}
md += '\n';
emitMarkdown(md);
console.log(`JSON ${JSON.stringify({ bench: 'stream_relay', res, cpu })}`);

// Token latency, live tail (issue 11): how long after the provider wrote a token does it reach
// an SSE client and a Convex-sync client (the official `convex` ConvexClient)?
//
// Everything runs in this one process, so the stamps compare directly (performance.now()):
// - a scripted OpenAI-compatible provider (node:http) that streams TOKENS unique tokens
//   GAP_MS apart and stamps each token right after its chunk is handed to the socket;
// - `polaris serve` pointed at it (OPENROUTER_BASE_URL);
// - an SSE reader of GET /api/conversations/:id/events and a ConvexClient.onUpdate of
//   messages:getMessages, each stamping when the text first covers a token.
// Per message: a new conversation (with a title, so no title request), one watcher, one POST.
// The watcher is opened first and the POST waits `settle` ms after its first value: 100 ms is
// a page that was already watching the conversation; 0 posts right after subscribing (the new
// assistant message then reaches the watcher through the store's 50 ms re-run throttle, and
// text streamed before that waits for it).
// Reported per path: first-token latency (p50/max over the messages), per-token latency
// (p50/p99/max over all tokens), the server's CPU (utime+stime from /proc/<pid>/stat), and any
// text anomaly (a value that is not a prefix of the expected reply, text going backwards, a
// final text that differs from what the provider sent).
//
// Usage: node bench/token_latency.mjs [--runs 10] [--tokens 200] [--gap 5]
//                                      [--configs default:100,default:0,1:100]
//   --configs: INTERVAL:SETTLE pairs, one server each; INTERVAL is POLARIS_LIVE_INTERVAL_MS
//   ("default" = unset, 25 ms), SETTLE the ms between the watcher's first value and the POST.
//   TOKLAT_DEBUG=1 prints, per message, the tokens later than 5 ms and the send/arrival times
//   of the first 14 tokens.
// Node 20 built-ins, plus `convex` and `ws` from tests/convex/node_modules.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir, loadavg, cpus } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import http from 'node:http';
import { sseParser } from './lib.mjs';

const nm = new URL('../tests/convex/node_modules/', import.meta.url);
const { ConvexClient } = await import(new URL('convex/dist/esm/browser/index-node.js', nm));
const { anyApi } = await import(new URL('convex/dist/esm/server/index.js', nm));
const { default: WebSocket } = await import(new URL('ws/wrapper.mjs', nm));

const BIN = process.env.POLARIS_BIN ?? new URL('../build/polaris', import.meta.url).pathname;
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
};
const RUNS = Number(arg('runs', 10));
const TOKENS = Number(arg('tokens', 200));
const GAP_MS = Number(arg('gap', 5));
const CONFIGS = String(arg('configs', 'default:100,default:0,1:100')).split(',').filter(Boolean).map((c) => {
  const [interval, settle = '100'] = c.split(':');
  return { interval, settle: Number(settle) };
});
const RUN_TIMEOUT_MS = 15_000;
const HARD_LIMIT_MS = 170_000;  // the whole bench stays under 3 minutes
const SECRET = 'token-latency-secret';
const CLK_TCK = 100;  // Linux USER_HZ

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const percentile = (values, p) => {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const f = (v, d = 2) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

function sign(sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: 'HS256', typ: 'JWT' }) + '.' + b64({ sub, iat: now, exp: now + 3600 });
  return head + '.' + createHmac('sha256', SECRET).update(head).digest('base64url');
}

// ------------------------------------------------------------------ cleanup

const children = new Set();
const dirs = new Set();
const closers = new Set();
function cleanup() {
  for (const c of closers) { try { c(); } catch { /* closing anyway */ } }
  closers.clear();
  for (const p of children) { if (p.exitCode === null) { try { p.kill('SIGKILL'); } catch { /* gone */ } } }
  children.clear();
  for (const d of dirs) { try { rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ } }
  dirs.clear();
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });
const hardTimer = setTimeout(() => { console.error(`token_latency: over ${HARD_LIMIT_MS} ms, giving up`); cleanup(); process.exit(2); }, HARD_LIMIT_MS);
hardTimer.unref();

// ------------------------------------------------------------------ the scripted provider

// The reply the next chat request streams: {tokens, stamps, written}. Set before each POST.
let plan = null;
const provider = { titleRequests: 0, chatRequests: 0, unexpected: [] };

function chunk(id, delta, finish) {
  return `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: Math.floor(Date.now() / 1000), model: 'bench-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

const providerServer = http.createServer({ noDelay: true }, (req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (d) => { body += d; });
  req.on('end', async () => {
    if (req.method !== 'POST' || !req.url.endsWith('/chat/completions')) {
      res.writeHead(404).end();
      return;
    }
    let parsed = {};
    try { parsed = JSON.parse(body); } catch { /* answered below */ }
    const system = (parsed.messages ?? []).filter((m) => m.role === 'system').map((m) => String(m.content)).join('\n');
    const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
    res.socket.setNoDelay(true);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.flushHeaders();
    if (/short, descriptive title/i.test(system)) {
      provider.titleRequests += 1;  // should not happen: every conversation is created with a title
      res.write(chunk(id, { role: 'assistant', content: 'Bench title' }, null));
      res.write(chunk(id, {}, 'stop'));
      res.end('data: [DONE]\n\n');
      return;
    }
    provider.chatRequests += 1;
    const p = plan;
    if (!p || p.started) {
      provider.unexpected.push(p ? 'a second request for the same reply' : 'a request with no plan');
      res.write(chunk(id, { role: 'assistant', content: 'unexpected' }, null));
      res.write(chunk(id, {}, 'stop'));
      res.end('data: [DONE]\n\n');
      return;
    }
    p.started = true;
    p.requestAt = performance.now();
    // Token i goes at start + i*GAP_MS (a schedule, so timer lateness does not accumulate);
    // its stamp is taken right after res.write hands the chunk to the socket.
    const start = performance.now() + GAP_MS;
    for (let i = 0; i < p.tokens.length; i++) {
      const wait = start + i * GAP_MS - performance.now();
      if (wait > 1) await sleep(wait);
      if (res.destroyed) return;
      res.write(chunk(id, i === 0 ? { role: 'assistant', content: p.tokens[i] } : { content: p.tokens[i] }, null));
      p.stamps[i] = performance.now();
    }
    res.write(chunk(id, {}, 'stop'));
    res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: 'bench-model', choices: [], usage: { prompt_tokens: 10, completion_tokens: p.tokens.length } })}\n\n`);
    res.end('data: [DONE]\n\n');
    p.doneAt = performance.now();
  });
});

// ------------------------------------------------------------------ the server

function waitForLine(proc, re) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('no listening line within 10 s')), 10_000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(re);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(t); reject(new Error(`polaris exited with ${code} before listening`)); });
  });
}

async function startServer(providerPort, extraEnv) {
  const dir = mkdtempSync(join(tmpdir(), 'polaris-toklat-'));
  dirs.add(dir);
  const env = {
    ...process.env,
    POLARIS_JWT_SECRET: SECRET,
    OPENROUTER_API_KEY: 'x',
    OPENROUTER_BASE_URL: `http://127.0.0.1:${providerPort}/v1`,
    POLARIS_MESSAGES_PER_MINUTE: '1000',
    ...extraEnv,
  };
  delete env.CEREBRAS_API_KEY;  // one provider: ours
  const proc = spawn(BIN, ['serve', '--port', '0', '--data-dir', dir, '--db', `sqlite:${dir}/db`],
    { stdio: ['ignore', 'pipe', 'inherit'], env });
  children.add(proc);
  const port = await waitForLine(proc, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
  proc.stdout.resume();
  return { proc, dir, url: `http://127.0.0.1:${port}` };
}

async function stopServer(s) {
  if (s.proc.exitCode === null) {
    const exited = new Promise((r) => s.proc.once('exit', r));
    s.proc.kill('SIGTERM');
    await Promise.race([exited, sleep(10_000)]);
    if (s.proc.exitCode === null && s.proc.signalCode === null) s.proc.kill('SIGKILL');
  }
  children.delete(s.proc);
  rmSync(s.dir, { recursive: true, force: true });
  dirs.delete(s.dir);
}

function cpuTicks(pid) {
  // Fields after the ")" of comm: state is field 3, utime 14, stime 15.
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

async function api(server, tok, method, path, body) {
  const res = await fetch(server.url + path, {
    method,
    headers: { authorization: `Bearer ${tok}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// ------------------------------------------------------------------ measuring one reply

/**
 * Follows the assistant message's text as a watcher sees it. observe(content, t) is called
 * with every new view of the text; it stamps tokens the first time the text covers them and
 * notes anything that is not a clean growing prefix of the expected reply.
 */
function tracker(p) {
  const ends = [];
  let acc = 0;
  for (const t of p.tokens) { acc += t.length; ends.push(acc); }
  const expected = p.tokens.join('');
  const arrivals = new Array(p.tokens.length).fill(undefined);
  const tr = { arrivals, anomalies: [], updates: 0, next: 0, last: '' };
  tr.observe = (content, t) => {
    tr.updates += 1;
    if (!expected.startsWith(content)) {
      tr.anomalies.push(`not a prefix of the reply (length ${content.length}, first difference at ${[...content].findIndex((c, i) => c !== expected[i])}): …${JSON.stringify(content.slice(-40))}`);
      return;
    }
    if (content.length < tr.last.length) tr.anomalies.push(`text went back from ${tr.last.length} to ${content.length} characters`);
    tr.last = content;
    while (tr.next < ends.length && ends[tr.next] <= content.length) {
      arrivals[tr.next] = t;
      tr.next += 1;
    }
  };
  tr.expected = expected;
  return tr;
}

function newPlan(run) {
  // Unique tokens: "r3t17 " cannot be confused with another token or another run.
  const tokens = Array.from({ length: TOKENS }, (_, i) => `r${run}t${i} `);
  return { tokens, stamps: new Array(TOKENS).fill(undefined), started: false };
}

async function newConversation(server, tok, projectId, run) {
  const { conversationId } = await api(server, tok, 'POST', '/api/conversations', { projectId, title: `bench ${run}` });
  return conversationId;
}

function openSse(server, tok, conversationId, onEvent) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${server.url}/api/conversations/${conversationId}/events`,
      { method: 'GET', headers: { accept: 'text/event-stream', authorization: `Bearer ${tok}` } });
    req.on('error', reject);
    req.on('response', (res) => {
      if (res.statusCode !== 200) { reject(new Error(`SSE: ${res.statusCode}`)); return; }
      res.socket.setNoDelay(true);
      res.setEncoding('utf8');
      const feed = sseParser(({ id, event, data }, t) => onEvent({ id, event, json: JSON.parse(data) }, t));
      res.on('data', (d) => feed(d, performance.now()));
      resolve({ close: () => req.destroy() });
    });
    req.end();
  });
}

async function waitFor(pred, what, timeout = RUN_TIMEOUT_MS) {
  const deadline = Date.now() + timeout;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

async function runSse(server, tok, projectId, run, settle) {
  const conversationId = await newConversation(server, tok, projectId, run);
  const p = newPlan(run);
  const tr = tracker(p);
  const docs = new Map();
  let snapshot = false;
  let lastId = null;
  let completed = null;
  const s = await openSse(server, tok, conversationId, (ev, t) => {
    if (lastId !== null && BigInt(ev.id) !== BigInt(lastId) + 1n) tr.anomalies.push(`SSE id ${ev.id} after ${lastId}`);
    lastId = ev.id;
    if (ev.event === 'snapshot') {
      snapshot = true;
      docs.clear();
      for (const m of ev.json) docs.set(m._id, { ...m });
      return;
    }
    let doc;
    if (ev.event === 'message') {
      doc = { ...ev.json };
      docs.set(doc._id, doc);
    } else if (ev.event === 'delta') {
      doc = docs.get(ev.json._id);
      if (!doc) { tr.anomalies.push(`delta for an unknown message ${ev.json._id}`); return; }
      doc.content += ev.json.append;
    } else {
      return;
    }
    if (doc.role !== 'assistant') return;
    tr.observe(doc.content, t);
    if (doc.status && doc.status !== 'processing') completed = doc;
  });
  closers.add(s.close);
  try {
    await waitFor(() => snapshot, 'the SSE snapshot');
    if (settle > 0) await sleep(settle);
    plan = p;
    await api(server, tok, 'POST', '/api/messages', { conversationId, message: `stream ${TOKENS} tokens` });
    await waitFor(() => completed, 'the completed reply over SSE');
  } finally {
    s.close();
    closers.delete(s.close);
  }
  return finish(server, tok, conversationId, p, tr, completed);
}

async function runConvex(server, tok, projectId, run, settle) {
  const conversationId = await newConversation(server, tok, projectId, run);
  const p = newPlan(run);
  const tr = tracker(p);
  let first = false;
  let completed = null;
  const frames = { count: 0 };
  class StampingWebSocket extends WebSocket {
    constructor(...a) {
      super(...a);
      this.on('message', () => { frames.count += 1; frames.lastAt = performance.now(); });
    }
  }
  const client = new ConvexClient(server.url, {
    webSocketConstructor: StampingWebSocket,
    unsavedChangesWarning: false,
    logger: { logVerbose: () => {}, log: () => {}, warn: () => {}, error: (...a) => tr.anomalies.push(`client error: ${a.join(' ')}`) },
  });
  const close = () => { client.close().catch(() => {}); };
  closers.add(close);
  client.setAuth(async () => tok);
  // Socket-level stamp too: the frame that carried a value arrived at frames.lastAt (before the
  // client decoded it); the callback's own time is the headline number.
  const frameTr = tracker(p);
  const unsub = client.onUpdate(anyApi.messages.getMessages, { conversationId }, (value) => {
    const t = performance.now();
    first = true;
    const m = Array.isArray(value) ? value.find((x) => x.role === 'assistant') : undefined;
    if (!m) return;
    tr.observe(m.content, t);
    frameTr.observe(m.content, frames.lastAt ?? t);
    if (m.status && m.status !== 'processing') completed = m;
  }, (err) => tr.anomalies.push(`query error: ${err.message}`));
  try {
    await waitFor(() => first, 'the first getMessages value');
    if (settle > 0) await sleep(settle);
    plan = p;
    await api(server, tok, 'POST', '/api/messages', { conversationId, message: `stream ${TOKENS} tokens` });
    await waitFor(() => completed, 'the completed reply over Convex');
  } finally {
    unsub();
    await client.close().catch(() => {});
    closers.delete(close);
  }
  const r = await finish(server, tok, conversationId, p, tr, completed);
  r.frameLat = frameTr.arrivals.map((a, i) => a - p.stamps[i]).filter(Number.isFinite);
  r.frames = frames.count;
  return r;
}

async function finish(server, tok, conversationId, p, tr, completed) {
  await waitFor(() => p.doneAt !== undefined, 'the provider to finish');
  const stored = await api(server, tok, 'GET', `/api/conversations/${conversationId}/messages`);
  const reply = stored.find((m) => m.role === 'assistant');
  if (completed.status !== 'completed') tr.anomalies.push(`reply ended ${completed.status}: ${completed.error ?? ''}`);
  if (!reply || reply.content !== tr.expected) {
    const same = reply && reply.content === tr.expected.trimEnd();
    tr.anomalies.push(`${same ? 'note: ' : ''}stored content ${same ? 'is the reply with its trailing space trimmed' : `differs from the reply (${reply?.content.length} vs ${tr.expected.length} characters)`}`);
  }
  if (completed.content !== reply?.content) tr.anomalies.push(`watcher's final text differs from the stored text (${completed.content.length} vs ${reply?.content.length})`);
  const missing = tr.arrivals.filter((a) => a === undefined).length;
  // Only the very last token may legitimately be uncovered if the store trims its trailing space.
  if (missing > 0 && !(missing === 1 && tr.arrivals.at(-1) === undefined && reply?.content === tr.expected.trimEnd())) {
    tr.anomalies.push(`${missing} tokens never seen while streaming`);
  }
  const lat = tr.arrivals.map((a, i) => a - p.stamps[i]).filter(Number.isFinite);
  if (process.env.TOKLAT_DEBUG) {
    const z = p.stamps[0];
    console.log(`  debug: request at ${f(p.requestAt - z)} ms; token i: sent/arrived (ms after token 0 was sent)`);
    const slow = lat.map((l, i) => [i, l]).filter(([, l]) => l > 5).map(([i, l]) => `${i}:${f(l, 1)}`);
    console.log(`   tokens later than 5 ms: ${slow.join(' ') || 'none'}`);
    console.log('   ' + p.stamps.slice(0, 14).map((st, i) => `${i}:${f(st - z, 1)}/${f(tr.arrivals[i] - z, 1)}`).join(' '));
  }
  return {
    first: tr.arrivals[0] - p.stamps[0],
    lat,
    updates: tr.updates,
    anomalies: tr.anomalies,
    requestAfterPost: p.requestAt,
    streamMs: p.doneAt - p.stamps[0],
  };
}

// ------------------------------------------------------------------ driver

function summarize(results, ticksUsed, wallMs) {
  const firsts = results.map((r) => r.first);
  const all = results.flatMap((r) => r.lat);
  const frameAll = results.flatMap((r) => r.frameLat ?? []);
  return {
    firstP50: percentile(firsts, 50),
    firstMax: Math.max(...firsts),
    firstMin: Math.min(...firsts),
    p50: percentile(all, 50),
    p99: percentile(all, 99),
    max: Math.max(...all),
    tokens: all.length,
    updatesPerMsg: results.reduce((s, r) => s + r.updates, 0) / results.length,
    framesPerMsg: results[0].frames !== undefined ? results.reduce((s, r) => s + r.frames, 0) / results.length : undefined,
    frameP50: frameAll.length ? percentile(frameAll, 50) : undefined,
    frameP99: frameAll.length ? percentile(frameAll, 99) : undefined,
    cpuPct: (ticksUsed / CLK_TCK) * 1000 / wallMs * 100,
    cpuMsPerMsg: (ticksUsed / CLK_TCK) * 1000 / results.length,
    anomalies: results.flatMap((r, i) => r.anomalies.map((a) => `message ${i + 1}: ${a}`)),
  };
}

const targets = { sse: { first: 2.8, p50: 1 }, convex: { first: 10, p50: 30 } };

async function main() {
  const t0 = Date.now();
  await new Promise((r) => providerServer.listen(0, '127.0.0.1', r));
  closers.add(() => providerServer.close());
  const providerPort = providerServer.address().port;
  console.log(`token_latency: ${RUNS} messages per path, ${TOKENS} tokens ${GAP_MS} ms apart; ${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const rows = [];
  for (const { interval, settle } of CONFIGS) {
    const env = interval === 'default' ? {} : { POLARIS_LIVE_INTERVAL_MS: interval };
    const server = await startServer(providerPort, env);
    const label = `POLARIS_LIVE_INTERVAL_MS=${interval === 'default' ? 'default (25)' : interval}, POST ${settle} ms after the watcher's first value`;
    try {
      const pid = server.proc.pid;
      for (const path of ['sse', 'convex']) {
        const run1 = path === 'sse' ? runSse : runConvex;
        const tok = sign(`bench-${path}-${interval}-${settle}`);
        const { projectId } = await api(server, tok, 'POST', '/api/projects', { name: `latency ${path}` });
        // One warm-up message (not counted): first connections, statement caches, page faults.
        await run1(server, tok, projectId, 0, settle);
        const results = [];
        const c0 = cpuTicks(pid);
        const w0 = performance.now();
        for (let run = 1; run <= RUNS; run++) results.push(await run1(server, tok, projectId, run, settle));
        const s = summarize(results, cpuTicks(pid) - c0, performance.now() - w0);
        Object.assign(s, { path, interval, settle });
        rows.push(s);
        const tg = targets[path];
        console.log(`\n[${path}] ${label}`);
        console.log(`  first token  p50 ${f(s.firstP50)} ms  (min ${f(s.firstMin)}, max ${f(s.firstMax)})  target ≤ ${tg.first} ms: ${s.firstP50 <= tg.first ? 'met' : 'MISSED'}`);
        console.log(`  every token  p50 ${f(s.p50)} ms  p99 ${f(s.p99)} ms  max ${f(s.max)} ms  (${s.tokens} tokens)  target p50 ≤ ${tg.p50} ms: ${s.p50 <= tg.p50 ? 'met' : 'MISSED'}`);
        if (s.frameP50 !== undefined) console.log(`  at the socket (before the client decodes): p50 ${f(s.frameP50)} ms  p99 ${f(s.frameP99)} ms`);
        console.log(`  ${f(s.updatesPerMsg, 1)} text updates per message${s.framesPerMsg !== undefined ? `, ${f(s.framesPerMsg, 1)} WebSocket frames` : ''}; server CPU ${f(s.cpuPct, 1)}% of one core (${f(s.cpuMsPerMsg, 1)} ms per message)`);
        if (s.anomalies.length) {
          console.log(`  ANOMALIES (${s.anomalies.length}):`);
          for (const a of s.anomalies.slice(0, 12)) console.log(`    ${a}`);
        } else {
          console.log('  text: every view a growing prefix of the reply; final text = stored text = what the provider sent');
        }
      }
    } finally {
      await stopServer(server);
    }
  }
  console.log(`\nprovider: ${provider.chatRequests} chat requests, ${provider.titleRequests} title requests${provider.unexpected.length ? `, unexpected: ${provider.unexpected.join('; ')}` : ''}`);
  console.log('\n| path | LIVE_INTERVAL_MS | POST after subscribing | first token p50 (min–max) | token p50 | token p99 | token max | server CPU (per message) |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const s of rows) {
    console.log(`| ${s.path === 'sse' ? 'SSE' : 'Convex'} | ${s.interval === 'default' ? '25 (default)' : s.interval} | ${s.settle} ms | ${f(s.firstP50)} (${f(s.firstMin)}–${f(s.firstMax)}) ms | ${f(s.p50)} ms | ${f(s.p99)} ms | ${f(s.max)} ms | ${f(s.cpuPct, 1)}% (${f(s.cpuMsPerMsg, 0)} ms) |`);
  }
  console.log(`\ndone in ${((Date.now() - t0) / 1000).toFixed(1)} s; load average now ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const bad = rows.some((s) => s.anomalies.some((a) => !a.includes(': note:')));
  providerServer.closeAllConnections();
  cleanup();
  process.exit(bad ? 1 : 0);
}

main().catch((e) => { console.error(e); cleanup(); process.exit(1); });

// Several processes on one PostgreSQL database (issue 12). Three measurements, one run:
//  1. POST /api/messages throughput and latency (wrk, no provider: each run fails at once, so
//     every POST is a real, durable 200): SQLite with 1 process as the baseline, then
//     PostgreSQL with 1 process and 1 writer (POLARIS_PG_WRITERS=1), then 1 and 2 processes
//     with the default writers (for 2: two wrk at once, the connections split between them,
//     each process taking its own half of the conversations).
//  2. Cross-process delivery: runs execute on A (they are posted there), SSE subscribers and
//     one official Convex client watch them on B. Per token: from the provider writing it to B's subscribers first seeing
//     text that covers it (p50/p99/max), and the same on A for comparison (the live tail).
//  3. Failover: a run streams on A, A is killed (-9); how long until B's provider request
//     (the resumed attempt) and until the message is completed, for two lease lengths.
// Starts its own throwaway cluster (scripts/pg-cluster.sh) and stops it at the end.
// Usage: node bench/pg_processes.mjs [--seconds 10] [--subs 50] [--runs 6] [--tokens 100]
//                                    [--gap 10] [--leases 2000,10000]
// Needs wrk and psql (apt: wrk, postgresql-client); `convex` and `ws` from tests/convex.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import http from 'node:http';
import { token, request, percentile, sleep, makeTargets, writeWrkPostScript } from './lib.mjs';

const nm = new URL('../tests/convex/node_modules/', import.meta.url);
const { ConvexClient } = await import(new URL('convex/dist/esm/browser/index-node.js', nm));
const { anyApi } = await import(new URL('convex/dist/esm/server/index.js', nm));
const { default: WebSocket } = await import(new URL('ws/wrapper.mjs', nm));

const BIN = process.env.POLARIS_BIN ?? new URL('../build/polaris', import.meta.url).pathname;
const CLUSTER = new URL('../scripts/pg-cluster.sh', import.meta.url).pathname;
const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : def;
};
const SECONDS = Number(arg('seconds', 10));
const SUBS = Number(arg('subs', 50));
const RUNS = Number(arg('runs', 6));
const TOKENS = Number(arg('tokens', 100));
const GAP_MS = Number(arg('gap', 10));
const LEASES = String(arg('leases', '2000,10000')).split(',').filter(Boolean).map(Number);
const ONLY_POST = process.argv.includes('--post-only');
const SECRET = 'pg-processes-secret';
const f = (v, d = 1) => (Number.isFinite(v) ? v.toFixed(d) : 'n/a');

// ------------------------------------------------------------------ processes and cleanup

const children = new Set();
const dirs = new Set();
const clusterDir = mkdtempSync('/tmp/polaris-bench-pg.');
dirs.add(clusterDir);
function cleanup() {
  for (const p of children) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  try { execFileSync('bash', [CLUSTER, 'stop', clusterDir], { stdio: 'ignore' }); } catch { /* best effort */ }
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(130));

const baseUri = execFileSync('bash', [CLUSTER, 'start', clusterDir], { encoding: 'utf8' }).trim();
let dbCount = 0;
function freshDatabase() {
  const name = `bench_${process.pid}_${dbCount++}`;
  execFileSync('psql', [baseUri, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name}`]);
  return baseUri.replace(/\/[^/]*$/, `/${name}`);
}

async function startServer(db, env = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'polaris-bench-'));
  dirs.add(dir);
  const proc = spawn(BIN, ['serve', '--port', '0', '--data-dir', dir, '--db', db], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, OPENROUTER_API_KEY: '', CEREBRAS_API_KEY: '', POLARIS_JWT_SECRET: SECRET, ...env },
  });
  children.add(proc);
  proc.stderr.resume();
  const port = await new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('no listening line')), 20_000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(buf);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
  });
  return { proc, url: `http://127.0.0.1:${port}` };
}
async function stop(server) {
  if (server.proc.exitCode !== null || server.proc.signalCode !== null) return;
  const gone = new Promise((r) => server.proc.once('exit', r));
  server.proc.kill('SIGTERM');
  await gone;
}

// ------------------------------------------------------------------ 1. POST throughput

const LOAD_ENV = {
  POLARIS_MESSAGES_PER_MINUTE: '1000000',
  POLARIS_MAX_PROJECTS_PER_USER: '1000',
  POLARIS_MAX_MESSAGES_PER_CONVERSATION: '1000000',
  POLARIS_MAX_REQUESTS_PER_USER: '1024',
};

// The wrk script's temp dir is removed at exit with the others.
function wrkScript(targets) {
  const script = writeWrkPostScript(targets, 1);  // wrk -t1 below
  dirs.add(dirname(script));
  return script;
}

function wrk(url, script, connections) {
  return new Promise((resolve, reject) => {
    const p = spawn('wrk', ['-t1', `-c${connections}`, `-d${SECONDS}s`, '--latency', '-s', script, url], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d) => { out += d; });
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`wrk exited ${code}`));
      const ms = (re) => {
        const m = re.exec(out);
        if (!m) return NaN;
        const v = Number(m[1]);
        return m[2] === 'us' ? v / 1000 : m[2] === 's' ? v * 1000 : v;
      };
      const non2xx = /Non-2xx or 3xx responses:\s+(\d+)/.exec(out);
      resolve({
        rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]),
        p50: ms(/50%\s+([\d.]+)(us|ms|s)/), p99: ms(/99%\s+([\d.]+)(us|ms|s)/),
        errors: non2xx ? Number(non2xx[1]) : 0,
      });
    });
  });
}

async function postThroughput(label, db, processes, env = {}, connections = 64) {
  const servers = [];
  for (let i = 0; i < processes; i++) servers.push(await startServer(db, { ...LOAD_ENV, ...env }));
  // 4096 conversations over 64 users, split between the processes.
  const per = Math.floor(4096 / processes);
  const scripts = [];
  for (let i = 0; i < processes; i++) {
    scripts.push(wrkScript(await makeTargets(servers[i].url, SECRET, per, Math.floor(64 / processes), `${label}-${i}`)));
  }
  const results = await Promise.all(servers.map((s, i) => wrk(s.url, scripts[i], Math.floor(connections / processes))));
  for (const s of servers) await stop(s);
  const rps = results.reduce((a, r) => a + r.rps, 0);
  const row = {
    label, rps, errors: results.reduce((a, r) => a + r.errors, 0),
    p50: Math.max(...results.map((r) => r.p50)), p99: Math.max(...results.map((r) => r.p99)),
  };
  console.log(`${label.padEnd(28)} ${f(rps, 0).padStart(7)} POST/s   p50 ${f(row.p50, 2)} ms   p99 ${f(row.p99, 2)} ms   non-2xx ${row.errors}`);
  return row;
}

// ------------------------------------------------------------------ the scripted provider

// Each chat request streams the next plan: {tokens, gap, stamps[]}.
const plans = [];
const providerLog = [];
function chunk(id, delta, finish) {
  return `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', model: 'bench-model', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}
const providerServer = http.createServer({ noDelay: true }, (req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', async () => {
    const at = performance.now();
    const id = `c${Math.random().toString(36).slice(2)}`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    const p = plans.shift() ?? { tokens: ['late'], gap: 1, stamps: [] };
    providerLog.push({ at, plan: p });
    const start = performance.now();
    for (let i = 0; i < p.tokens.length; i++) {
      const wait = start + (i + 1) * p.gap - performance.now();
      if (wait > 1) await sleep(wait);
      if (res.destroyed) return;
      res.write(chunk(id, { content: p.tokens[i] }, null));
      p.stamps[i] = performance.now();
    }
    res.write(chunk(id, {}, 'stop'));
    res.end('data: [DONE]\n\n');
  });
});
await new Promise((r) => providerServer.listen(0, '127.0.0.1', r));
const PROVIDER_ENV = {
  OPENROUTER_API_KEY: 'bench', OPENROUTER_BASE_URL: `http://127.0.0.1:${providerServer.address().port}`,
  POLARIS_MAX_STREAMS_PER_USER: '100000',
};
const tokensFor = (run, n) => Array.from({ length: n }, (_, i) => ` t${run}x${i}`);

// An SSE subscriber keeping the content of every message: calls onText(messageId, content, t).
function subscribe(url, tok, conversationId, onText) {
  const contents = new Map();
  const status = new Map();
  const req = http.get(`${url}/api/conversations/${conversationId}/events`, { headers: { authorization: `Bearer ${tok}` } }, (res) => {
    res.setEncoding('utf8');
    let buf = '';
    res.on('data', (d) => {
      const t = performance.now();
      buf += d;
      let end;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const frame = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const event = /^event: (.*)$/m.exec(frame)?.[1];
        const data = frame.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
        if (!event || !data) continue;
        const v = JSON.parse(data);
        const docs = event === 'snapshot' ? v : event === 'message' ? [v] : [];
        for (const m of docs) {
          contents.set(m._id, m.content);
          status.set(m._id, m.status);
          onText(m._id, m.content, t, m.status);
        }
        if (event === 'delta') {
          const c = (contents.get(v._id) ?? '') + v.append;
          contents.set(v._id, c);
          onText(v._id, c, t, status.get(v._id));
        }
      }
    });
  });
  req.on('error', () => {});
  return () => req.destroy();
}

// ------------------------------------------------------------------ 2. cross-process delivery

async function crossProcessDelivery() {
  const db = freshDatabase();
  const A = await startServer(db, PROVIDER_ENV);
  const B = await startServer(db, PROVIDER_ENV);
  const latB = [];
  const latA = [];
  const latConvex = [];
  for (let run = 0; run < RUNS; run++) {
    const tok = token(SECRET, `fan-${run}`);
    const p = await request(`${A.url}/api/projects`, 'POST', tok, { name: 'fan' });
    const c = await request(`${A.url}/api/conversations`, 'POST', tok, { projectId: p.body.projectId, title: 'fan' });
    const conv = c.body.conversationId;
    const plan = { tokens: tokensFor(run, TOKENS), gap: GAP_MS, stamps: [] };
    // Per watcher: the first time its text covers token i.
    const watchers = [];
    const closers = [];
    let done = 0;
    const allDone = new Promise((resolve) => {
      const watch = (server, side) => {
        const seen = [];
        let covered = 0;
        watchers.push({ side, seen });
        let finished = false;
        closers.push(subscribe(server.url, tok, conv, (id, content, t, status) => {
          while (covered < plan.tokens.length && content.includes(plan.tokens[covered])) seen[covered++] = t;
          if (!finished && status === 'completed') {
            finished = true;
            if (++done === SUBS + 2) resolve();
          }
        }));
      };
      watch(A, 'A');
      for (let i = 0; i < SUBS; i++) watch(B, 'B');
      // One official Convex client on B, watching messages:getMessages.
      const seen = [];
      let covered = 0;
      let finished = false;
      watchers.push({ side: 'convex', seen });
      const client = new ConvexClient(B.url, {
        webSocketConstructor: WebSocket, unsavedChangesWarning: false,
        logger: { logVerbose: () => {}, log: () => {}, warn: () => {}, error: () => {} },
      });
      client.setAuth(async () => tok);
      const unsub = client.onUpdate(anyApi.messages.getMessages, { conversationId: conv }, (value) => {
        const t = performance.now();
        const m = Array.isArray(value) ? value.find((x) => x.role === 'assistant') : undefined;
        if (!m) return;
        while (covered < plan.tokens.length && m.content.includes(plan.tokens[covered])) seen[covered++] = t;
        if (!finished && m.status === 'completed') {
          finished = true;
          if (++done === SUBS + 2) resolve();
        }
      });
      closers.push(() => { unsub(); client.close().catch(() => {}); });
    });
    await sleep(300);  // the subscribers have their snapshots
    plans.push(plan);
    const posted = await request(`${A.url}/api/messages`, 'POST', tok, { conversationId: conv, message: 'go' });
    if (posted.status !== 200) throw new Error(`POST ${posted.status}`);
    await Promise.race([allDone, sleep(TOKENS * GAP_MS + 10_000)]);
    for (const close of closers) close();
    for (const w of watchers) {
      for (let i = 0; i < plan.tokens.length; i++) {
        if (w.seen[i] === undefined || plan.stamps[i] === undefined) continue;
        (w.side === 'A' ? latA : w.side === 'convex' ? latConvex : latB).push(w.seen[i] - plan.stamps[i]);
      }
    }
  }
  await stop(A);
  await stop(B);
  console.log(`token delivery, run on A, ${RUNS} runs x ${TOKENS} tokens ${GAP_MS} ms apart:`);
  console.log(`  1 subscriber on A (live tail):  p50 ${f(percentile(latA, 50), 2)} ms   p99 ${f(percentile(latA, 99), 2)} ms   max ${f(Math.max(...latA), 2)} ms   (${latA.length} samples)`);
  console.log(`  ${SUBS} SSE subscribers on B:       p50 ${f(percentile(latB, 50), 2)} ms   p99 ${f(percentile(latB, 99), 2)} ms   max ${f(Math.max(...latB), 2)} ms   (${latB.length} samples)`);
  console.log(`  1 Convex client on B:           p50 ${f(percentile(latConvex, 50), 2)} ms   p99 ${f(percentile(latConvex, 99), 2)} ms   max ${f(Math.max(...latConvex), 2)} ms   (${latConvex.length} samples)`);
}

// ------------------------------------------------------------------ 3. failover after kill -9

async function failover(lease) {
  const db = freshDatabase();
  const env = { ...PROVIDER_ENV, POLARIS_RUN_LEASE_MS: String(lease) };
  const A = await startServer(db, env);
  const B = await startServer(db, env);
  const tok = token(SECRET, `fail-${lease}`);
  const p = await request(`${A.url}/api/projects`, 'POST', tok, { name: 'fail' });
  const c = await request(`${A.url}/api/conversations`, 'POST', tok, { projectId: p.body.projectId, title: 'fail' });
  const conv = c.body.conversationId;
  // The first attempt streams for a minute (it is killed); the resumed one answers at once.
  plans.push({ tokens: tokensFor(0, 600), gap: 100, stamps: [] });
  plans.push({ tokens: tokensFor(1, 5), gap: 1, stamps: [] });
  const before = providerLog.length;
  let completedAt;
  const close = subscribe(B.url, tok, conv, (id, content, t, status) => {
    if (status === 'completed' && completedAt === undefined) completedAt = t;
  });
  await request(`${A.url}/api/messages`, 'POST', tok, { conversationId: conv, message: 'go' });
  while (providerLog.length === before) await sleep(5);
  await sleep(500);
  const killedAt = performance.now();
  A.proc.kill('SIGKILL');
  const deadline = killedAt + lease + 30_000;
  while (completedAt === undefined && performance.now() < deadline) await sleep(5);
  const resumed = providerLog[before + 1]?.at;
  close();
  await stop(B);
  plans.length = 0;
  console.log(`failover, lease ${lease} ms: resumed attempt reached the provider ${f((resumed - killedAt) / 1000, 2)} s after kill -9; message completed after ${f((completedAt - killedAt) / 1000, 2)} s`);
}

// ------------------------------------------------------------------ run

console.log(`polaris pg_processes bench, ${new Date().toISOString()}, wrk ${SECONDS} s per config, 64 connections in all`);
await postThroughput('SQLite, 1 process', `sqlite:${mkdtempSync(join(tmpdir(), 'polaris-bench-'))}/p.db`, 1);
await postThroughput('PostgreSQL, 1 process, 1 writer', freshDatabase(), 1, { POLARIS_PG_WRITERS: '1' });
await postThroughput('PostgreSQL, 1 process', freshDatabase(), 1);
await postThroughput('PostgreSQL, 2 processes, 1 writer', freshDatabase(), 2, { POLARIS_PG_WRITERS: '1' });
await postThroughput('PostgreSQL, 2 processes', freshDatabase(), 2);
if (ONLY_POST) process.exit(0);
await crossProcessDelivery();
for (const lease of LEASES) await failover(lease);
providerServer.close();
process.exit(0);

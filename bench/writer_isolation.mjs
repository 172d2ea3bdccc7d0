// The writer only writes (issue 11): POST /api/messages ack latency, first with no other
// work (A), then beside runs that keep calling search_files over large projects (B), and,
// to tell CPU competition from waiting on the writer, beside two CPU hogs (C). Order: A, C, B, A2.
// Usage: node bench/writer_isolation.mjs [searchers=32] [files=5000] [post_rate=50] [seconds=20]
//
// 1. `searchers` users each own one project of `files` files (~20 lines of TypeScript-like
//    code each, imported with POST …/files/bulk) and one conversation.
// 2. A: probe POSTs arrive at `post_rate`/s for `seconds`, each into its own idle project of
//    one of 20 probe users; each run is cancelled as soon as its POST is answered, so the probe
//    adds no provider work. A GET of a small conversation every 200 ms runs beside it (a read).
// 3. C (control): the same probe beside two spinning processes and no searches: the CPU
//    demand of two busy store readers without any store work.
// 4. B: the mock provider is scripted with thousands of distinct search_files calls (the agent
//    stops a run that repeats one call with the same arguments), every searcher conversation
//    gets a message, and once the searches flow the same probe runs again. A search's pattern
//    has a top-level '|', so the server finds no literal to skip lines with and runs the regex
//    on every line of every file (5 planted lines match: a complete scan answers 5 matches).
// 5. A2: the searches are stopped, and once reads are quick again the baseline is measured
//    again (the machine is shared: its load moves).
// The searches completed inside B's window are counted from the provider requests the mock
// recorded (each request after a run's first carries the previous search's result).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { startMock, startServer, token, request, percentile, sleep } from './lib.mjs';

const SEARCHERS = Number(process.argv[2] ?? 32);
const FILES = Number(process.argv[3] ?? 5000);
const RATE = Number(process.argv[4] ?? 50);
const SECONDS = Number(process.argv[5] ?? 20);
const PROBE_USERS = 20;
const PLANTED = 5;  // matching lines per project
const READ_PROBE_MS = 200;  // one GET every 200 ms beside the POSTs
const WARMUP_MS = 6000;  // B: searches flowing before the window opens
const PATTERN = 'function\\s+\\w+\\(.*\\)\\s*:\\s*Promise<|class\\s+\\w+Legacy';

// --------------------------------------------------------------------------- processes

const cleanups = [];
async function stopProc(proc, graceMs = 5000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);  // a drain of queued searches
  await exited;
  clearTimeout(t);
}
async function cleanup() {
  while (cleanups.length) {
    try { await cleanups.pop()(); } catch (e) { console.error('cleanup:', e.message); }
  }
}
process.once('SIGINT', async () => { await cleanup(); process.exit(130); });
for (const ev of ['uncaughtException', 'unhandledRejection']) {
  process.once(ev, async (e) => { console.error(e); await cleanup(); process.exit(1); });
}
const hardStop = setTimeout(async () => {  // bounded: never more than 4 minutes
  console.error('writer_isolation: over the 4-minute bound, stopping');
  await cleanup();
  process.exit(2);
}, 235_000);
hardStop.unref();

// utime + stime of a process (or one of its threads), in seconds.
function cpuSeconds(pid, tid) {
  try {
    const stat = readFileSync(tid ? `/proc/${pid}/task/${tid}/stat` : `/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;  // fields 14 and 15; USER_HZ is 100
  } catch { return 0; }
}
function threadsCpu(pid) {
  const out = new Map();
  for (const tid of readdirSync(`/proc/${pid}/task`)) out.set(tid, cpuSeconds(pid, tid));
  return out;
}

// --------------------------------------------------------------------------- content

// One project's files: src/<area>/m<k>/item<i>.ts, 20 lines each, ~680 bytes. PLANTED of
// them declare an async function returning a Promise, which is what the pattern finds.
function projectFiles(seed) {
  const areas = ['api', 'core', 'ui', 'store', 'util', 'auth', 'jobs', 'sync', 'media', 'admin'];
  const every = Math.floor(FILES / PLANTED);
  const files = [];
  for (let i = 0; i < FILES; i++) {
    const area = areas[i % areas.length];
    const N = `${seed}_${i}`;
    const k = (i * 7 + seed) % 13;
    const planted = i % every === 17;
    const lines = [
      `// src/${area}/m${Math.floor(i / 50) % 100}/item${i}.ts: loads and formats records of kind ${k}`,
      `import { formatValue } from '../../util/format';`,
      `import type { Options } from '../../types';`,
      ``,
      `export interface Record${N} {`,
      `  id: number;`,
      `  name: string;`,
      `  tags: string[];`,
      `}`,
      ``,
      planted ? `export async function fetchLegacy${N}(id: number): Promise<Record${N}> {`
        : `export function load${N}(items: Record${N}[], options: Options) {`,
      `  const result = items.filter((item) => item.id % 13 === ${k});`,
      `  for (const item of result) {`,
      `    options.log?.(\`loaded \${item.name} (\${item.tags.length} tags)\`);`,
      `  }`,
      `  return result.map((item) => formatValue(item, options));`,
      `}`,
      ``,
      `export const defaults${N} = { kind: ${k}, version: ${i % 5}, strict: ${i % 2 === 0} };`,
      ``,
    ];
    files.push({ path: `src/${area}/m${Math.floor(i / 50) % 100}/item${i}.ts`, content: lines.join('\n') });
  }
  return files;
}

// --------------------------------------------------------------------------- setup

const t0 = Date.now();
const mock = await startMock();
cleanups.push(() => stopProc(mock.proc));
const server = await startServer({
  OPENROUTER_API_KEY: 'x',
  OPENROUTER_BASE_URL: `${mock.url}/v1`,
  POLARIS_MAX_STEPS: '1000',
  POLARIS_MESSAGES_PER_MINUTE: '1000000',
  POLARIS_MAX_ACTIVE_RUNS_PER_USER: '100000',
  POLARIS_MAX_REQUESTS_PER_USER: '100000',
  POLARIS_AI_CALLS_PER_MINUTE: '1000000',
  POLARIS_MAX_PROJECTS_PER_USER: '100000',
});
const dataDir = server.proc.spawnargs[server.proc.spawnargs.indexOf('--data-dir') + 1];
cleanups.push(async () => { rmSync(dataDir, { recursive: true, force: true }); });
cleanups.push(() => stopProc(server.proc));
const url = server.url;
const tok = (sub) => token(server.secret, sub);

async function ok(res, what) {
  const r = await res;
  if (r.status !== 200) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}
async function newChat(t) {
  const { projectId } = await ok(request(`${url}/api/projects`, 'POST', t, { name: 'bench' }), 'project');
  const { conversationId } = await ok(request(`${url}/api/conversations`, 'POST', t, { projectId, title: 'bench' }), 'conversation');
  return { projectId, conversationId };
}
async function inBatches(n, size, fn) {
  const out = [];
  for (let i = 0; i < n; i += size) {
    out.push(...await Promise.all(Array.from({ length: Math.min(size, n - i) }, (_, j) => fn(i + j))));
  }
  return out;
}

const perPhase = RATE * SECONDS;
console.log(`setup: ${SEARCHERS} projects x ${FILES} files, ${4 * perPhase} probe conversations ` +
  `(${PROBE_USERS} probe users)...`);
const probeTokens = Array.from({ length: PROBE_USERS }, (_, u) => tok(`probe-${u}`));
const probes = await inBatches(4 * perPhase + 1, 64, async (i) => {
  const t = probeTokens[i % PROBE_USERS];
  return { tok: t, ...(await newChat(t)) };
});
const readTarget = probes.pop();  // the GET probe's conversation (stays idle)
const probesA = probes.slice(0, perPhase);
const probesC = probes.slice(perPhase, 2 * perPhase);
const probesB = probes.slice(2 * perPhase, 3 * perPhase);
const probesA2 = probes.slice(3 * perPhase);

let importBytes = 0;
const tImport = Date.now();
const searchers = await inBatches(SEARCHERS, 2, async (i) => {
  const t = tok(`searcher-${i}`);
  const chat = await newChat(t);
  const body = { files: projectFiles(i) };
  importBytes += JSON.stringify(body).length;
  const r = await ok(request(`${url}/api/projects/${chat.projectId}/files/bulk`, 'POST', t, body), 'import');
  if (r.written !== FILES) throw new Error(`import wrote ${r.written} of ${FILES}`);
  return { tok: t, ...chat, posts: 0 };
});
console.log(`  imported ${SEARCHERS * FILES} files (${(importBytes / 1048576).toFixed(1)} MiB of JSON) in ` +
  `${((Date.now() - tImport) / 1000).toFixed(1)} s; setup took ${((Date.now() - t0) / 1000).toFixed(1)} s`);

// --------------------------------------------------------------------------- the probe

function fmtLat(l) {
  return `p50 ${percentile(l, 50).toFixed(2)} ms, p90 ${percentile(l, 90).toFixed(2)} ms, ` +
    `p99 ${percentile(l, 99).toFixed(2)} ms, max ${Math.max(...l).toFixed(2)} ms (n=${l.length})`;
}

// POSTs at RATE/s (open loop: each leaves on schedule, whatever the previous one did), each
// run cancelled as soon as its ack arrives; a GET every READ_PROBE_MS beside them.
async function probePhase(targets) {
  const acks = [];
  const reads = [];
  let errors = 0, cancelRefused = 0;
  const pending = [];
  const cpu0 = cpuSeconds(server.proc.pid), mockCpu0 = cpuSeconds(mock.proc.pid);
  const threads0 = threadsCpu(server.proc.pid);
  const load0 = loadavg()[0];
  const started = Date.now();
  const end = started + SECONDS * 1000;
  const reader = (async () => {  // open loop too: a slow answer does not delay the next GET
    const gets = [];
    for (let at = started; at < end; at += READ_PROBE_MS) {
      if (at > Date.now()) await sleep(at - Date.now());
      gets.push(request(`${url}/api/conversations/${readTarget.conversationId}/messages`, 'GET', readTarget.tok)
        .then((r) => { if (r.status === 200) reads.push(r.ms); else errors++; }));
    }
    await Promise.all(gets);
  })();
  for (let i = 0; i < targets.length; i++) {
    const wait = started + (i * 1000) / RATE - Date.now();
    if (wait > 0) await sleep(wait);
    const p = targets[i];
    pending.push(request(`${url}/api/messages`, 'POST', p.tok, { conversationId: p.conversationId, message: 'hi' })
      .then(async (r) => {
        if (r.status !== 200) { errors++; return; }
        acks.push(r.ms);
        const c = await request(`${url}/api/messages`, 'DELETE', p.tok, { messageId: r.body.messageId });
        if (c.status !== 200) cancelRefused++;  // 409: the run already completed
      }));
  }
  await Promise.all(pending);
  const wall = (Date.now() - started) / 1000;
  const cpu = (cpuSeconds(server.proc.pid) - cpu0) / wall;
  const threads1 = threadsCpu(server.proc.pid);
  const top = [...threads1].map(([tid, s]) => (s - (threads0.get(tid) ?? 0)) / wall)
    .sort((a, b) => b - a).slice(0, 6);
  const load1 = loadavg()[0];
  await reader;  // in B the GETs wait behind the queued searches: collected after the window
  return {
    acks, reads, errors, cancelRefused, wall, cpu, top,
    mockCpu: (cpuSeconds(mock.proc.pid) - mockCpu0) / wall,
    load: [load0, load1],
  };
}

function report(name, r) {
  console.log(`${name}:`);
  console.log(`  POST /api/messages ack: ${fmtLat(r.acks)}, errors ${r.errors}, ` +
    `${(r.acks.length / r.wall).toFixed(1)} acks/s (runs cancelled after the ack; ${r.cancelRefused} had already finished)`);
  console.log(`  GET of a small conversation (a store read), every ${READ_PROBE_MS} ms: ${fmtLat(r.reads)}`);
  console.log(`  server CPU ${(r.cpu * 100).toFixed(0)}% of one core (busiest threads: ` +
    `${r.top.map((x) => `${(x * 100).toFixed(0)}%`).join(', ')}); mock ${(r.mockCpu * 100).toFixed(0)}%; ` +
    `load average (1 min) ${r.load[0].toFixed(2)} -> ${r.load[1].toFixed(2)}`);
}

// --------------------------------------------------------------------------- A: baseline

console.log(`\nmachine: ${cpus().length} cores, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
console.log(`A: ${RATE} POST/s for ${SECONDS} s, no searches...`);
const A = await probePhase(probesA);
report('A (baseline)', A);

// --------------------------------------------------------------------------- C: CPU control

// The searches keep both store readers busy, i.e. two CPU-bound threads on two cores. The
// control puts the same CPU demand beside the server with no store work at all: two spinning
// processes at the same priority. If C's ack tail looks like B's, B's tail is CPU competition,
// not the writer waiting on the searches.
console.log(`C: ${RATE} POST/s for ${SECONDS} s beside 2 spinning processes (CPU control, no searches)...`);
const spinners = [0, 1].map(() => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
for (const p of spinners) cleanups.push(() => stopProc(p));
await sleep(1000);
const C = await probePhase(probesC);
await Promise.all(spinners.map((p) => stopProc(p)));
report('C (CPU control: 2 spinning processes)', C);

// --------------------------------------------------------------------------- B: searches

// Distinct calls: the agent stops a run that repeats a call with the same arguments.
const call = (i) => ({ type: 'tool_calls', calls: [{ name: 'search_files', arguments: { pattern: `${PATTERN}${i}` } }] });
const STEPS = 6000;
for (let i = 0; i < STEPS; i += 2000) {
  await ok(request(`${mock.url}/_mock/script`, 'POST', null, {
    reset: i === 0, steps: Array.from({ length: 2000 }, (_, j) => call(i + j)),
  }), 'mock script');
}
await ok(request(`${mock.url}/_mock/script`, 'POST', null, {
  reset: false, steps: [{ type: 'text', text: 'Done.', sticky: true }],
}), 'mock script');

let searching = true;
const keepers = searchers.map(async (s) => {  // one run per project; a new one when it ends
  while (searching) {
    const posted = await request(`${url}/api/messages`, 'POST', s.tok, { conversationId: s.conversationId, message: 'Find the legacy async functions.' });
    if (posted.status !== 200) throw new Error(`searcher POST: HTTP ${posted.status} ${JSON.stringify(posted.body)}`);
    s.posts++;
    s.messageId = posted.body.messageId;
    while (searching) {
      await sleep(2000);
      const run = await request(`${url}/api/runs/${posted.body.runId}`, 'GET', s.tok);
      if (run.status === 200 && !['queued', 'executing'].includes(run.body.status)) break;
    }
  }
});
const mockStats = () => ok(request(`${mock.url}/_mock/stats`, 'GET'), 'mock stats');
console.log(`\nB: ${SEARCHERS} runs searching, warming up ${WARMUP_MS / 1000} s...`);
await sleep(WARMUP_MS);
const metrics = await (await fetch(`${url}/metrics`)).text();
const executing = Number(/polaris_runs\{status="executing"\} (\d+)/.exec(metrics)?.[1]);
const before = (await mockStats()).requests;
const B = await probePhase(probesB);
const after = (await mockStats()).requests;
searching = false;

// Which of the window's provider requests carried a finished search (the last message is the
// tool result), and what the searches answered.
const recorded = await ok(request(`${mock.url}/_mock/requests`, 'GET'), 'mock requests');
let searches = 0, complete = 0, timedOut = 0, truncated = 0, probeRuns = 0;
for (const { body } of recorded.slice(before, after)) {
  const last = body.messages.at(-1);
  if (last.role === 'user') { if (last.content === 'hi') probeRuns++; continue; }
  if (last.role !== 'tool') continue;
  searches++;
  const result = JSON.parse(last.content);
  if (/out of time/.test(result.note ?? '')) timedOut++;
  else if (result.truncated) truncated++;
  else if (result.matches?.length === PLANTED) complete++;
}
report(`B (${SEARCHERS} runs calling search_files)`, B);
console.log(`  runs executing when B started: ${executing}; provider requests during B: ${after - before} ` +
  `(${probeRuns} from probe runs not yet cancelled)`);
console.log(`  search_files calls completed during B: ${searches} (${(searches / B.wall).toFixed(2)}/s, ` +
  `${(searches / B.wall * FILES * 20 / 1e6).toFixed(2)} M lines/s): ${complete} scanned all ${FILES} files ` +
  `(${PLANTED} matches), ${timedOut} ran out of the 2 s budget, ${truncated} truncated otherwise`);
console.log(`  searcher runs posted in all: ${searchers.reduce((n, s) => n + s.posts, 0)}`);

// Stop the searches (cancel every searcher's run; the mock then answers "Done."), wait until
// a read is quick again (the queued searches have drained), and measure the baseline again:
// the machine is shared, so its load may have moved during the run.
await Promise.all(searchers.map((s) => request(`${url}/api/messages`, 'DELETE', s.tok, { messageId: s.messageId })));
await Promise.race([Promise.all(keepers), sleep(5000)]);
await ok(request(`${mock.url}/_mock/reset`, 'POST'), 'mock reset');
const tDrain = Date.now();
while (Date.now() - tDrain < 30000) {
  const r = await request(`${url}/api/conversations/${readTarget.conversationId}/messages`, 'GET', readTarget.tok);
  if (r.ms < 50) break;
}
console.log(`\nsearches stopped; reads quick again after ${((Date.now() - tDrain) / 1000).toFixed(1)} s`);
console.log(`A2: ${RATE} POST/s for ${SECONDS} s, no searches (baseline again)...`);
const A2 = await probePhase(probesA2);
report('A2 (baseline again)', A2);

const p99 = (r) => percentile(r.acks, 99);
const ratio = p99(B) / p99(A);
console.log(`\nPOST ack p99: A ${p99(A).toFixed(2)} ms, C ${p99(C).toFixed(2)} ms, B ${p99(B).toFixed(2)} ms, ` +
  `A2 ${p99(A2).toFixed(2)} ms`);
console.log(`  B/A = ${ratio.toFixed(2)}x, B/A2 = ${(p99(B) / p99(A2)).toFixed(2)}x ` +
  `(target <= 1.5x: ${Math.max(ratio, p99(B) / p99(A2)) <= 1.5 ? 'met' : ratio <= 1.5 || p99(B) / p99(A2) <= 1.5 ? 'met against one baseline' : 'NOT met'}); ` +
  `C/A = ${(p99(C) / p99(A)).toFixed(2)}x (CPU control), B/C = ${(p99(B) / p99(C)).toFixed(2)}x`);
console.log(`  p50: A ${percentile(A.acks, 50).toFixed(2)}, C ${percentile(C.acks, 50).toFixed(2)}, ` +
  `B ${percentile(B.acks, 50).toFixed(2)}, A2 ${percentile(A2.acks, 50).toFixed(2)} ms`);

clearTimeout(hardStop);
await cleanup();
console.log(`total ${((Date.now() - t0) / 1000).toFixed(0)} s`);
process.exit(0);

// make bench, part 1: Polaris' HTTP path against the HTTP ceiling of this machine.
// The ceiling is bench/hello_beast.cpp (Boost.Beast on C++20 coroutines, {"ok":true} for
// every request, built -O2 into build-bench/ by run-all.sh) with as many io threads as Polaris
// runs (max(2, nproc)). One load generator for all: wrk, keep-alive, -t2 -c64. Rounds
// alternate between the servers so that a noisy minute hits both.
// Rows: hello_beast GET /healthz; Polaris GET /healthz (router, metrics, no auth); Polaris
// GET /api/projects (an HS256 token verified, the per-user in-flight slot, a store read of a
// user with one project).
// Usage: node bench/http_ceiling.mjs [--seconds 10] [--rounds 2] [--connections 64]
import { availableParallelism } from 'node:os';
import { BENCH_BIN, startPolaris, spawnListening, token, api, wrk, median, fmt0, fmt, ratio, emitMarkdown, sleep, cpuTicks } from './runall_lib.mjs';

const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const SECONDS = Number(arg('seconds', 10));
const ROUNDS = Number(arg('rounds', 2));
const CONN = Number(arg('connections', 64));
const THREADS = Math.max(2, availableParallelism());

const beast = await spawnListening(`${BENCH_BIN}/hello_beast`, ['0', String(THREADS)]);
const polaris = await startPolaris();
const tok = token(polaris.secret, 'bench-http');
await api(polaris.url, tok, 'POST', '/api/projects', { name: 'one' });

const targets = [
  { key: 'beast', label: `hello_beast (${THREADS} io threads) GET /healthz`, pid: beast.pid, args: [`${beast.url}/healthz`] },
  { key: 'healthz', label: 'Polaris GET /healthz', pid: polaris.pid, args: [`${polaris.url}/healthz`] },
  { key: 'projects', label: 'Polaris GET /api/projects (signed in, 1 project)', pid: polaris.pid, args: ['-H', `Authorization: Bearer ${tok}`, `${polaris.url}/api/projects`] },
];
const runs = Object.fromEntries(targets.map((t) => [t.key, []]));
const base = ['-t2', `-c${CONN}`, `-d${SECONDS}s`, '--latency'];
// Warm-up (2 s each, not counted).
for (const t of targets) wrk(['-t2', `-c${CONN}`, '-d2s', ...t.args]);
for (let r = 0; r < ROUNDS; r++) {
  for (const t of targets) {
    const c0 = cpuTicks(t.pid);
    const w = wrk([...base, ...t.args]);
    w.cpu = (cpuTicks(t.pid) - c0) / 100 / SECONDS;
    runs[t.key].push(w);
    console.error(`round ${r + 1}: ${t.label}: ${w.rps.toFixed(0)} req/s, p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, non-2xx ${w.non2xx} ${w.errors}`);
    await sleep(500);
  }
}
await beast.stop();
await polaris.stop();

const agg = (k) => {
  const v = runs[k];
  return { rps: median(v.map((x) => x.rps)), p50: median(v.map((x) => x.p50Ms)), p99: median(v.map((x) => x.p99Ms)), cpu: median(v.map((x) => x.cpu)), cpuUs: median(v.map((x) => (x.cpu / x.rps) * 1e6)), non2xx: v.reduce((s, x) => s + x.non2xx, 0), errors: v.map((x) => x.errors).filter(Boolean).join('; '), all: v.map((x) => x.rps) };
};
const B = agg('beast');
let md = `### HTTP: Polaris against a minimal Beast server\n\n`;
md += `\`wrk ${base.join(' ')} URL\`, ${ROUNDS} rounds alternating between the servers after a 2 s warm-up each; medians of the rounds. Ratios are to hello_beast in the same run (req/s: higher is better; latency: lower is better). Server CPU is utime+stime of the server process over the run, in cores, and per answered request. On 2 cores wrk takes about one of them, so req/s mostly measures the load generator and the machine; CPU per request is the server's own cost.\n\n`;
md += `| server and route | req/s (rounds) | ratio | p50 | ratio | p99 | ratio | server CPU | CPU per request | ratio | non-2xx |\n| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n`;
for (const t of targets) {
  const a = agg(t.key);
  md += `| ${t.label} | **${fmt0(a.rps)}** (${a.all.map(fmt0).join(', ')}) | ${t.key === 'beast' ? '1' : ratio(a.rps, B.rps)} | ${fmt(a.p50, 2)} ms | ${t.key === 'beast' ? '1' : ratio(a.p50, B.p50)} | ${fmt(a.p99, 2)} ms | ${t.key === 'beast' ? '1' : ratio(a.p99, B.p99)} | ${fmt(a.cpu, 2)} | ${fmt(a.cpuUs, 1)} µs | ${t.key === 'beast' ? '1' : ratio(a.cpuUs, B.cpuUs)} | ${a.non2xx}${a.errors ? ` (${a.errors})` : ''} |\n`;
}
md += '\n';
emitMarkdown(md);
console.log(`JSON ${JSON.stringify({ bench: 'http_ceiling', runs })}`);

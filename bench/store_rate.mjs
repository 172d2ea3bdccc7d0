// make bench, part 3: Polaris' durable write rate against SQLite's own commit rate.
// Baseline: bench/sqlite_commit.cpp (build-bench/sqlite_commit), one thread doing single-row
// INSERT commits (BEGIN IMMEDIATE … COMMIT, a 200-byte row) into a fresh WAL database in the
// same temp folder, with the settings of Polaris' store (src/store/sqlite/database.cpp:
// synchronous=FULL for a durable write, cache_size=-32768, memory statistics off); also with
// synchronous=NORMAL (what the store uses for its relaxed, streamed-content writes).
// Polaris: `wrk -t2 -c64` POSTing /api/messages over CONVERSATIONS idle conversations of 64
// users (the walk of bench/post_ratio.mjs, via lib.mjs writeWrkPostScript); no provider is
// configured, so each run fails in the same write that claims it and every POST is a real 200,
// acknowledged once its write is fsynced. The store batches concurrent writes into one
// transaction (group commit), so it may pass the one-commit-at-a-time baseline.
// Usage: node bench/store_rate.mjs [--seconds 10] [--conversations 2048] [--rounds 2]
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { BENCH_BIN, startPolaris, token, api, wrk, median, fmt0, fmt, ratio, emitMarkdown, tempDir, cpuTicks, sleep } from './runall_lib.mjs';
import { writeWrkPostScript } from './lib.mjs';

const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const SECONDS = Number(arg('seconds', 10));
const CONVS = Number(arg('conversations', 2048));
const ROUNDS = Number(arg('rounds', 2));
const USERS = 64;

function sqliteRate(sync) {
  const dir = tempDir('sqlite-commit-');
  const cmd = [`${BENCH_BIN}/sqlite_commit`, `${dir}/t.db`, String(SECONDS / 2), sync];
  const out = JSON.parse(execFileSync(cmd[0], cmd.slice(1), { encoding: 'utf8' }).trim().split('\n').pop());
  rmSync(dir, { recursive: true, force: true });
  return { ...out, cmd: `build-bench/sqlite_commit DB ${SECONDS / 2} ${sync}` };
}

const polaris = await startPolaris({
  POLARIS_MESSAGES_PER_MINUTE: '1000000',
  POLARIS_MAX_PROJECTS_PER_USER: String(Math.ceil(CONVS / USERS) + 1),
  POLARIS_MAX_MESSAGES_PER_CONVERSATION: '1000000',
});
// The targets, 64 at a time (one project and one titled conversation each).
const targets = new Array(CONVS);
let next = 0;
await Promise.all(Array.from({ length: 64 }, async () => {
  while (next < CONVS) {
    const i = next++;
    const tok = token(polaris.secret, `bench-${i % USERS}`);
    const p = await api(polaris.url, tok, 'POST', '/api/projects', { name: `p${i}` });
    const c = await api(polaris.url, tok, 'POST', '/api/conversations', { projectId: p.projectId, title: 'bench' });
    targets[i] = [tok, c.conversationId];
  }
}));
const script = writeWrkPostScript(targets, 2);

const rows = { full: [], normal: [], post: [] };
for (let r = 0; r < ROUNDS; r++) {
  rows.full.push(sqliteRate('FULL'));
  console.error(`round ${r + 1}: sqlite FULL ${rows.full.at(-1).rate.toFixed(0)} commits/s`);
  rows.normal.push(sqliteRate('NORMAL'));
  console.error(`round ${r + 1}: sqlite NORMAL ${rows.normal.at(-1).rate.toFixed(0)} commits/s`);
  const c0 = cpuTicks(polaris.pid);
  const w = wrk(['-t2', '-c64', `-d${SECONDS}s`, '--latency', '-s', script, `${polaris.url}/api/messages`]);
  w.cpu = (cpuTicks(polaris.pid) - c0) / 100 / SECONDS;
  rows.post.push(w);
  console.error(`round ${r + 1}: POST /api/messages ${w.rps.toFixed(0)}/s, p50 ${w.p50Ms} ms, p99 ${w.p99Ms} ms, non-2xx ${w.non2xx}`);
  await sleep(1000);
}
await polaris.stop();
rmSync(dirname(script), { recursive: true, force: true });

const full = median(rows.full.map((x) => x.rate));
const normal = median(rows.normal.map((x) => x.rate));
const post = median(rows.post.map((x) => x.rps));
let md = `### Store: Polaris' durable POST rate against SQLite's own commit rate\n\n`;
md += `${ROUNDS} rounds, alternating; medians (rounds). SQLite: \`build-bench/sqlite_commit DB ${SECONDS / 2} FULL|NORMAL\` (bench/sqlite_commit.cpp: one thread, a fresh WAL database in the temp folder, one prepared 200-byte INSERT per \`BEGIN IMMEDIATE\`…\`COMMIT\`, the store's pragmas). Polaris: \`wrk -t2 -c64 -d${SECONDS}s --latency -s post.lua URL/api/messages\` over ${fmt0(CONVS)} idle conversations of ${USERS} users, no provider configured (each run fails in the write that claims it), every answer fsync-durable (\`synchronous=FULL\`); the store groups the writes of concurrent requests into one transaction.\n\n`;
md += `| | rate (rounds) | ratio to SQLite FULL | p50 | p99 | non-2xx | server CPU |\n| --- | --- | --- | --- | --- | --- | --- |\n`;
md += `| SQLite, single-row commits, \`synchronous=FULL\` (baseline) | **${fmt0(full)}/s** (${rows.full.map((x) => fmt0(x.rate)).join(', ')}) | 1 | | | | |\n`;
md += `| SQLite, single-row commits, \`synchronous=NORMAL\` (no fsync per commit) | ${fmt0(normal)}/s (${rows.normal.map((x) => fmt0(x.rate)).join(', ')}) | ${ratio(normal, full)} | | | | |\n`;
md += `| Polaris \`POST /api/messages\` (durable acks) | **${fmt0(post)}/s** (${rows.post.map((x) => fmt0(x.rps)).join(', ')}) | **${ratio(post, full)}** | ${fmt(median(rows.post.map((x) => x.p50Ms)), 2)} ms | ${fmt(median(rows.post.map((x) => x.p99Ms)), 2)} ms | ${rows.post.reduce((s, x) => s + x.non2xx, 0)} | ${fmt(median(rows.post.map((x) => x.cpu)), 2)} cores |\n`;
md += `\nPolaris against SQLite without fsync: ${ratio(post, normal, 3)}.\n\n`;
emitMarkdown(md);
console.log(`JSON ${JSON.stringify({ bench: 'store_rate', rows })}`);

// Throughput of the durable acknowledgement: `wrk -c64` on POST /api/messages against
// `GET /healthz` in the same run, as a ratio. Usage (after `make build`; needs `wrk` from apt):
//   node bench/post_ratio.mjs [seconds=10] [connections=64] [conversations=4096]
// - No provider is configured, so each run fails at once and its project is idle again long
//   before the round-robin comes back to it: every POST is a real 200 (not a 409 or a replay),
//   each one fsync-durable before it is answered.
// - The conversations belong to 64 users (one project each), so the per-user limits stay at
//   their defaults except the two that a load this size passes by design (messages per minute
//   and projects per user), which are lifted for the run.
// - POLARIS_BIN=<wrapper> measures another build, e.g. one started under LD_PRELOAD.
import { execFileSync } from 'node:child_process';
import { startServer, makeTargets, writeWrkPostScript } from './lib.mjs';

const seconds = Number(process.argv[2] ?? 10);
const connections = Number(process.argv[3] ?? 64);
const conversations = Number(process.argv[4] ?? 4096);
const users = 64;

const env = {
  POLARIS_MESSAGES_PER_MINUTE: '1000000',
  POLARIS_MAX_PROJECTS_PER_USER: String(Math.ceil(conversations / users) + 1),
  POLARIS_MAX_MESSAGES_PER_CONVERSATION: '1000000',
};
for (const k of ['OPENROUTER_API_KEY', 'CEREBRAS_API_KEY']) env[k] = '';
const server = await startServer(env);

const targets = await makeTargets(server.url, server.secret, conversations, users, 'bench');
// Each wrk thread walks its own share of the conversations in order.
const script = writeWrkPostScript(targets);

function wrk(args) {
  const out = execFileSync('wrk', ['-t2', `-c${connections}`, `-d${seconds}s`, '--latency', ...args],
    { encoding: 'utf8' });
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]);
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const p99 = /99%\s+(\S+)/.exec(out)?.[1];
  return { rps, bad: bad ? Number(bad[1]) : 0, p99 };
}

const health = wrk([`${server.url}/healthz`]);
const post = wrk(['-s', script, `${server.url}/api/messages`]);
console.log(`GET /healthz:       ${health.rps.toFixed(0)} req/s, p99 ${health.p99}`);
console.log(`POST /api/messages: ${post.rps.toFixed(0)} req/s, p99 ${post.p99}, non-2xx ${post.bad}`);
console.log(`ratio POST/healthz: ${(post.rps / health.rps).toFixed(3)}x`);
server.proc.kill('SIGTERM');

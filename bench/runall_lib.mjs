// Helpers shared by the `make bench` scripts (bench/run-all.sh): child processes that are
// always cleaned up, a Polaris server with a scrubbed environment, the mock provider, wrk, and
// the Markdown fragment each script hands to run-all.sh (written to $BENCH_MD when set).
// Node 20 built-ins only.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';

export const ROOT = new URL('..', import.meta.url).pathname.replace(/\/$/, '');
export const BIN = process.env.POLARIS_BIN ?? `${ROOT}/build/polaris`;
export const BENCH_BIN = process.env.BENCH_BUILD_DIR ?? `${ROOT}/build-bench`;
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ------------------------------------------------------------------ cleanup

const children = new Set();
const dirs = new Set();
export function cleanup() {
  for (const p of children) { if (p.exitCode === null && p.signalCode === null) { try { p.kill('SIGKILL'); } catch { /* gone */ } } }
  children.clear();
  for (const d of dirs) { try { rmSync(d, { recursive: true, force: true }); } catch { /* best effort */ } }
  dirs.clear();
}
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { cleanup(); process.exit(130); });

export function tempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.add(d);
  return d;
}

/** Spawns a child and resolves once stdout matches `re` (its first group is returned as port). */
export function spawnListening(cmd, args, { env = process.env, re = /listening on http:\/\/(?:127\.0\.0\.1|localhost):(\d+)/, cwd, timeout = 15_000 } = {}) {
  const proc = spawn(cmd, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(proc);
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-20_000); });
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => reject(new Error(`${cmd}: no listening line within ${timeout} ms: ${stderr.slice(-2000)}`)), timeout);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      out = (out + d).slice(-10_000);
      const m = re.exec(out.replace(/\x1b\[[0-9;]*m/g, ''));
      if (m) {
        clearTimeout(t);
        proc.stdout.removeAllListeners('data');
        proc.stdout.resume();
        resolve({
          proc, pid: proc.pid, port: Number(m[1]), url: `http://127.0.0.1:${m[1]}`, exited,
          get stderr() { return stderr; },
          alive: () => proc.exitCode === null && proc.signalCode === null,
          async stop() {
            if (proc.exitCode === null && proc.signalCode === null) {
              proc.kill('SIGTERM');
              const k = setTimeout(() => proc.kill('SIGKILL'), 10_000);
              await exited;
              clearTimeout(k);
            }
            children.delete(proc);
          },
        });
      }
    });
    exited.then(({ code, signal }) => { clearTimeout(t); reject(new Error(`${cmd} exited (${code ?? signal}) before listening: ${stderr.slice(-2000)}`)); });
  });
}

/** `polaris serve` on a fresh SQLite data dir; nothing from the caller's shell configures it. */
export async function startPolaris(env = {}, { secret = 'bench-secret' } = {}) {
  const dir = tempDir('polaris-bench-');
  const scrubbed = { ...process.env };
  for (const k of Object.keys(scrubbed)) if (/^(OPENROUTER_|CEREBRAS_|POLARIS_)|^PORT$/.test(k)) delete scrubbed[k];
  const srv = await spawnListening(BIN, ['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dir, '--db', `sqlite:${dir}/polaris.db`, '--local-user', ''],
    { env: { ...scrubbed, POLARIS_JWT_SECRET: secret, ...env } });
  return Object.assign(srv, { secret, dir });
}

/** `polaris mock-llm`: the scripted provider. script(steps) replaces its queue. */
export async function startMock() {
  const m = await spawnListening(BIN, ['mock-llm', '--host', '127.0.0.1', '--port', '0'], { re: /mock-llm listening on http:\/\/127\.0\.0\.1:(\d+)/ });
  m.v1 = `${m.url}/v1`;
  m.script = async (steps) => {
    const r = await fetch(`${m.url}/_mock/script`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ reset: true, steps }) });
    if (r.status !== 200) throw new Error(`mock script: ${r.status} ${await r.text()}`);
  };
  return m;
}

export function token(secret, sub, ttl = 3600) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: 'HS256', typ: 'JWT' }) + '.' + b64({ sub, iat: now, exp: now + ttl });
  return head + '.' + createHmac('sha256', secret).update(head).digest('base64url');
}

export async function api(url, tok, method, path, body) {
  const res = await fetch(url + path, {
    method,
    headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

// ------------------------------------------------------------------ measuring

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}
/** The middle value; for an even count, the mean of the two middle values. */
export function median(values) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** wrk's figures: {rps, p50Ms, p99Ms, non2xx, errors, cmd}. */
export function wrk(args) {
  const cmd = ['wrk', ...args];
  const out = execFileSync('wrk', args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const ms = (s) => {
    if (!s) return NaN;
    const m = /([\d.]+)(us|ms|s)/.exec(s);
    return m ? Number(m[1]) * (m[2] === 'us' ? 1e-3 : m[2] === 's' ? 1e3 : 1) : NaN;
  };
  const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const errs = /Socket errors: (.*)/.exec(out);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)[1]),
    p50Ms: ms(/\s50%\s+(\S+)/.exec(out)?.[1]),
    p99Ms: ms(/\s99%\s+(\S+)/.exec(out)?.[1]),
    non2xx: bad ? Number(bad[1]) : 0,
    errors: errs ? errs[1].trim() : '',
    cmd: cmd.join(' '),
  };
}

export function cpuTicks(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]);
}

export function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

// ------------------------------------------------------------------ output

export const fmt = (v, d = 1) => (Number.isFinite(v) ? v.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '—');
export const fmt0 = (v) => fmt(v, 0);
export const ratio = (a, b, d = 2) => (Number.isFinite(a) && Number.isFinite(b) && b !== 0 ? `${(a / b).toFixed(d)}×` : '—');

/** The script's Markdown fragment: to $BENCH_MD (for run-all.sh) and to stdout. */
export function emitMarkdown(text) {
  if (process.env.BENCH_MD) appendFileSync(process.env.BENCH_MD, text.endsWith('\n') ? text : `${text}\n`);
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

// Shared bench helpers: start the mock provider and the server on free ports, sign tokens,
// create POST targets and the wrk script that posts to them, and compute percentiles.
// Node 20 built-ins only.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHmac } from 'node:crypto';
import http from 'node:http';

export const BIN = process.env.POLARIS_BIN ?? new URL('../build/polaris', import.meta.url).pathname;
export const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });

function waitForLine(proc, re) {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error('no listening line')), 10000);
    proc.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(re);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
  });
}

export async function startMock() {
  const proc = spawn(BIN, ['mock-llm', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await waitForLine(proc, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
  return { proc, url: `http://127.0.0.1:${port}` };
}

export async function startServer(env = {}, args = []) {
  const dir = mkdtempSync(join(tmpdir(), 'polaris-bench-'));
  const secret = 'bench-secret';
  // BENCH_DB: another database for the server, e.g. a postgres:// URI (an empty database).
  const db = process.env.BENCH_DB || `sqlite:${dir}/p.db`;
  const proc = spawn(BIN, ['serve', '--port', '0', '--data-dir', dir, '--db', db, ...args],
    { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, POLARIS_JWT_SECRET: secret, ...env } });
  const port = await waitForLine(proc, /listening on http:\/\/127\.0\.0\.1:(\d+)/);
  return { proc, url: `http://127.0.0.1:${port}`, secret };
}

export function token(secret, sub) {
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = b64({ alg: 'HS256', typ: 'JWT' }) + '.' + b64({ sub, iat: now, exp: now + 3600 });
  return head + '.' + createHmac('sha256', secret).update(head).digest('base64url');
}

// Minimal keep-alive JSON request; resolves {status, body, ms}.
export function request(url, method, tok, body) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, {
      method, agent,
      headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) },
    }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { buf += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: buf ? JSON.parse(buf) : null, ms: Number(process.hrtime.bigint() - started) / 1e6 }));
    });
    req.on('error', reject);
    if (data) req.write(data);
    req.end();
  });
}

// `count` titled conversations (no title run), one project each, over `users` users named
// `${prefix}-0` …; returns [[token, conversationId], …].
export async function makeTargets(url, secret, count, users, prefix) {
  const targets = [];
  for (let i = 0; i < count; i++) {
    const tok = token(secret, `${prefix}-${i % users}`);
    const p = await request(`${url}/api/projects`, 'POST', tok, { name: `p${i}` });
    const c = await request(`${url}/api/conversations`, 'POST', tok, { projectId: p.body.projectId, title: 'bench' });
    if (c.status !== 200) throw new Error(`create conversation: ${c.status} ${JSON.stringify(c.body)}`);
    targets.push([tok, c.body.conversationId]);
  }
  return targets;
}

// Writes a wrk Lua script that POSTs "hello" to /api/messages over the targets (from
// makeTargets) into a new temp dir; returns the script's path. Thread t (from 0) of `threads`
// (wrk -t) posts to targets t, t+threads, t+2*threads, … in order: the threads share them out.
export function writeWrkPostScript(targets, threads = 2) {
  const dir = mkdtempSync(join(tmpdir(), 'polaris-wrk-'));
  const script = join(dir, 'post.lua');
  writeFileSync(script, `
local targets = {${targets.map(([t, c]) => `{"${t}","${c}"}`).join(',')}}
local threads, n = 0, 0
function setup(thread) thread:set("tid", threads); threads = threads + 1 end
function init(args) n = tid end
function request()
  local t = targets[(n % #targets) + 1]
  n = n + ${threads}
  return wrk.format("POST", "/api/messages",
    {["Authorization"] = "Bearer " .. t[1], ["Content-Type"] = "application/json"},
    '{"conversationId":"' .. t[2] .. '","message":"hello"}')
end
`);
  return script;
}

export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One parser for every event stream the benchmarks read (a provider's, Polaris's SSE): feed
// it text as it arrives with the arrival time; it calls onEvent({ id, event, data }, t) for
// each complete event (data: the data lines joined, unparsed; event defaults to "message").
export function sseParser(onEvent) {
  let buf = '';
  let cur = { data: [] };
  return (chunk, t) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      if (line === '') {
        if (cur.data.length) onEvent({ id: cur.id, event: cur.event ?? 'message', data: cur.data.join('\n') }, t);
        cur = { data: [] };
      } else if (!line.startsWith(':')) {
        const c = line.indexOf(':');
        const field = c < 0 ? line : line.slice(0, c);
        let value = c < 0 ? '' : line.slice(c + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'data') cur.data.push(value);
        else if (field === 'event') cur.event = value;
        else if (field === 'id') cur.id = value;
      }
    }
  };
}

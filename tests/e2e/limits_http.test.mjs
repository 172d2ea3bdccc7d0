// Issue 9 at the HTTP level, against the real binary: SSE streams end when their token expires
// and are capped per user; HEAD never carries a body (keep-alive stays in sync); transfer
// codings other than chunked are refused; /metrics can require a token; the connection cap
// answers 503 and the server neither spins nor stops answering when connections or file
// descriptors run out; /api/suggestion range-checks lineNumber. Node built-ins only.
import { describe, test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import {
  POLARIS_BIN, useServer, request, expectStatus, expectOk, expectErrorBody, describeRes, newUser,
  makeToken, randomSecret, makeTempDir, rawExchange, parseResponses, sleep, serverEnv,
} from './lib/server.mjs';
import { useMockedServer, newChat, postMessage, waitFor, metricValue } from './lib/mock.mjs';

const nowSec = () => Math.floor(Date.now() / 1000);
const eventsPath = (id) => `/api/conversations/${id}/events`;

// ---------------------------------------------------------------- helpers

/** polaris_limit_hits_total{limit="NAME"} (0 when absent); opts.auth for a metrics token. */
async function limitHits(server, name, opts = {}) {
  const res = await request(server, 'GET', '/metrics', opts);
  assert.equal(res.status, 200, `GET /metrics: ${describeRes(res)}`);
  return metricValue(res.text, `polaris_limit_hits_total{limit="${name}"}`) ?? 0;
}

/** utime + stime of a process (all threads), in seconds. */
let clockTicks;
function cpuSeconds(pid) {
  clockTicks ??= Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after "pid (comm)": state is field 3, so utime (14) and stime (15) are at 11 and 12.
  return (Number(f[11]) + Number(f[12])) / clockTicks;
}

/** CPU the server burns over `ms` while the caller holds whatever it holds. */
async function cpuOver(pid, ms) {
  const a = cpuSeconds(pid);
  await sleep(ms);
  return cpuSeconds(pid) - a;
}

/** An idle TCP connection that records whatever the server writes and whether it closed. */
function openIdle(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    const h = { socket: s, data: '', closed: false, error: null, connected: false };
    s.on('data', (d) => { h.data += d.toString('latin1'); });
    s.on('close', () => { h.closed = true; resolve(h); });
    s.on('error', (e) => { h.error = e; });
    s.once('connect', () => { h.connected = true; resolve(h); });
  });
}

/**
 * GET an SSE stream with node:http. Resolves once the head is in:
 * {status, headers, body (non-200), events [{event, data, json, id}], ended, complete, until(pred), close()}.
 */
function openSse(server, urlPath, token) {
  return new Promise((resolve, reject) => {
    const headers = { accept: 'text/event-stream' };
    if (token) headers.authorization = `Bearer ${token}`;
    const req = http.request(`${server.url}${urlPath}`, { method: 'GET', headers, agent: false });
    const timer = setTimeout(() => req.destroy(new Error(`no response head for GET ${urlPath} within 10 s`)), 10_000);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.on('response', (res) => {
      clearTimeout(timer);
      const s = { status: res.statusCode, headers: res.headers, body: '', events: [], ended: false, complete: false, res, req };
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (s.status !== 200) { s.body += chunk; return; }
        buf += chunk.replace(/\r\n?/g, '\n');
        let i;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const ev = { event: 'message', data: [], id: undefined };
          let fields = 0;
          for (const line of block.split('\n')) {
            if (!line || line.startsWith(':')) continue;
            const c = line.indexOf(':');
            const k = c < 0 ? line : line.slice(0, c);
            let v = c < 0 ? '' : line.slice(c + 1);
            if (v.startsWith(' ')) v = v.slice(1);
            if (k === 'event') { ev.event = v; fields++; } else if (k === 'data') { ev.data.push(v); fields++; } else if (k === 'id') { ev.id = v; fields++; }
          }
          if (!fields) continue;
          ev.data = ev.data.join('\n');
          try { ev.json = JSON.parse(ev.data); } catch { ev.json = undefined; }
          ev.at = Date.now();
          s.events.push(ev);
        }
      });
      const end = () => { s.ended = true; s.complete = res.complete; };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      s.until = (pred, what, timeout = 10_000) => waitFor(() => pred(s.events) || (s.ended && !pred(s.events) && 'ended'), { timeout, interval: 20, what })
        .then((v) => { if (v === 'ended') throw new Error(`SSE stream ended while waiting for ${what}; events: ${JSON.stringify(s.events).slice(-1500)}`); return v; });
      s.close = () => { req.destroy(); res.destroy(); };
      if (s.status !== 200) {
        res.on('end', () => { try { s.json = JSON.parse(s.body); } catch { s.json = undefined; } resolve(s); });
      } else {
        resolve(s);
      }
    });
    req.end();
  });
}

/** Parses the head of one response (no body). */
function parseHead(text) {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
  assert.ok(m, `not an HTTP status line: ${JSON.stringify(lines[0])}`);
  const headers = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  return { status: Number(m[1]), headers };
}

/**
 * Splits raw bytes into the answer to a HEAD (head only: a HEAD response has no body whatever
 * its Content-Length says) and the responses after it on the same connection.
 */
function splitHeadThenRest(data) {
  const he = data.indexOf('\r\n\r\n');
  if (he < 0) return null;
  const head = parseHead(data.slice(0, he));
  const rest = data.slice(he + 4);
  return { head, rest, next: parseResponses(rest) };
}

function req(method, urlPath, headers = {}) {
  let s = `${method} ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}: ${v}\r\n`;
  return `${s}\r\n`;
}

/** HEAD then GET (pipelined on one keep-alive socket): {head, next, rest}. */
async function headThenGet(server, headPath, getPath, headers = {}) {
  const r = await rawExchange(server, req('HEAD', headPath, headers) + req('GET', getPath, headers), {
    timeout: 5000,
    until: (d) => { const p = splitHeadThenRest(d); return p && p.next.some((x) => !x.incomplete); },
  });
  const p = splitHeadThenRest(r.data);
  assert.ok(p, `no answer to HEAD ${headPath}: ${JSON.stringify(r.data.slice(0, 500))} (closed ${r.closed}, timed out ${r.timedOut})`);
  return { ...p, raw: r };
}

/** Starts `polaris serve` under `prlimit --nofile=SOFT:HARD` (startServer cannot wrap the binary). */
async function startWithNofile(soft, hard, env = {}) {
  const dataDir = makeTempDir('polaris-limits-');
  const secret = randomSecret();
  const childEnv = serverEnv({ POLARIS_JWT_SECRET: secret, ...env });
  const proc = spawn('prlimit', [`--nofile=${soft}:${hard}`, '--', POLARIS_BIN, 'serve', '--host', '127.0.0.1', '--port', '0',
    '--data-dir', dataDir, '--db', `sqlite:${path.join(dataDir, 'polaris.db')}`], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-50_000); });
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`no listening line within 10 s: ${stderr}`)); }, 10_000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      stdout += d;
      const m = /polaris listening on http:\/\/[^\s:/]+:(\d+)/.exec(stdout);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`polaris exited (code ${code}, signal ${signal}): ${stderr}`)); });
  });
  return {
    proc, port, secret, url: `http://127.0.0.1:${port}`,
    get stderr() { return stderr; },
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async stop() {
      proc.kill('SIGTERM');
      let t;
      const res = await Promise.race([exited, new Promise((r) => { t = setTimeout(() => r(null), 10_000); })]);
      clearTimeout(t);
      if (!res) { proc.kill('SIGKILL'); await exited; }
      fs.rmSync(dataDir, { recursive: true, force: true });
      assert.ok(res && res.code === 0, `polaris should exit 0 on SIGTERM, got ${JSON.stringify(res)}\n${stderr.slice(-2000)}`);
    },
  };
}

/** "Max open files" soft and hard limits of a process. */
function nofileOf(pid) {
  const m = /^Max open files\s+(\S+)\s+(\S+)/m.exec(fs.readFileSync(`/proc/${pid}/limits`, 'utf8'));
  assert.ok(m, `/proc/${pid}/limits has no "Max open files"`);
  return { soft: m[1], hard: m[2] };
}

// ---------------------------------------------------------------- SSE, HEAD, coding, lineNumber

describe('limits over HTTP (mock provider)', () => {
  const ctx = useMockedServer({ mocks: 1 });
  beforeEach(async () => { await ctx.resetMocks(); });

  test('SSE: when the token expires (exp + 30 s leeway) the stream gets event: error {"error":"Token expired"} and ends; later messages are not delivered', async (t) => {
    const user = newUser('sse-exp');
    const c = ctx.client(user);
    const { conversationId } = await newChat(c);
    // exp 25 s ago: inside the 30 s leeway, so accepted now and expired about 5 s from now.
    const exp = nowSec() - 25;
    const validUntilMs = (exp + 30) * 1000;
    const expiring = await openSse(ctx.server, eventsPath(conversationId), ctx.token(user, { iat: nowSec() - 60, exp }));
    const control = await openSse(ctx.server, eventsPath(conversationId), ctx.token(user));
    try {
      assert.equal(expiring.status, 200, `the stream opens while the token is valid: ${expiring.status} ${expiring.body}`);
      assert.equal(control.status, 200);
      const err = await expiring.until((evs) => evs.find((e) => e.event === 'error'), 'event: error', 15_000);
      t.diagnostic(`error event ${err.at - validUntilMs} ms after the token's end`);
      assert.deepEqual(err.json, { error: 'Token expired' }, `error event data: ${JSON.stringify(err)}`);
      assert.ok(err.at >= validUntilMs - 1500, `the stream must not end before the token does (${validUntilMs - err.at} ms early)`);
      assert.ok(err.at <= validUntilMs + 3000, `the error comes at expiry (${err.at - validUntilMs} ms late)`);
      await waitFor(() => expiring.ended, { timeout: 5000, what: 'the expired stream to end' });
      assert.equal(expiring.complete, true, 'the chunked body is terminated (not just a dropped connection)');
      const seen = expiring.events.length;
      assert.equal(expiring.events.at(-1).event, 'error', 'nothing after the error event');

      // A message created after expiry reaches the control stream only.
      await ctx.primary.script([{ type: 'text', text: 'after expiry' }]);
      const { messageId } = await postMessage(c, conversationId, 'are you there?');
      await control.until((evs) => evs.some((e) => e.event === 'message' && e.json?._id === messageId), 'the control stream to get the new message');
      await sleep(300);
      assert.equal(expiring.events.length, seen, `no events after expiry: ${JSON.stringify(expiring.events.slice(seen))}`);
    } finally {
      expiring.close();
      control.close();
    }
  });

  test('HEAD /healthz: no body bytes, Content-Length as GET; the next request on the socket is answered', async () => {
    const { head, next, rest } = await headThenGet(ctx.server, '/healthz', '/healthz');
    assert.equal(head.status, 200);
    assert.ok(rest.startsWith('HTTP/1.1 '), `the HEAD answer must carry no body: bytes after its head: ${JSON.stringify(rest.slice(0, 80))}`);
    assert.equal(head.headers['content-length'], String(Buffer.byteLength('{"ok":true}')), `HEAD Content-Length is what GET sends: ${JSON.stringify(head.headers)}`);
    assert.equal(next.length, 1, `exactly one response after the HEAD: ${JSON.stringify(next)}`);
    assert.equal(next[0].status, 200);
    assert.deepEqual(JSON.parse(next[0].body), { ok: true });
  });

  test('HEAD /api/projects (signed in): no body, Content-Length as GET; keep-alive goes on', async () => {
    const c = ctx.client(newUser('head'));
    expectOk(await c.post('/api/projects', { name: 'head-a' }));
    expectOk(await c.post('/api/projects', { name: 'head-b' }));
    const get = await c.get('/api/projects');
    expectOk(get);
    const { head, next, rest } = await headThenGet(ctx.server, '/api/projects', '/api/projects', { Authorization: `Bearer ${c.token}` });
    assert.equal(head.status, 200);
    assert.ok(rest.startsWith('HTTP/1.1 '), `no body after the HEAD answer: ${JSON.stringify(rest.slice(0, 80))}`);
    assert.equal(Number(head.headers['content-length']), get.buf.length, `HEAD Content-Length is the GET body's: ${JSON.stringify(head.headers)}`);
    assert.equal(next.length, 1);
    assert.equal(next[0].status, 200);
    assert.deepEqual(JSON.parse(next[0].body).map((p) => p.name).sort(), ['head-a', 'head-b']);
  });

  test('HEAD on the SSE route: headers only, no stream; the next request on the socket is answered', async () => {
    const user = newUser('head-sse');
    const c = ctx.client(user);
    const { conversationId } = await newChat(c);
    const { head, next, rest } = await headThenGet(ctx.server, eventsPath(conversationId), '/healthz', { Authorization: `Bearer ${c.token}` });
    assert.equal(head.status, 200);
    assert.match(head.headers['content-type'] || '', /text\/event-stream/);
    assert.ok(rest.startsWith('HTTP/1.1 '), `HEAD must not stream: bytes after its head: ${JSON.stringify(rest.slice(0, 120))}`);
    assert.equal(next.length, 1, `the GET after it is answered: ${JSON.stringify(rest.slice(0, 300))}`);
    assert.equal(next[0].status, 200);
    assert.deepEqual(JSON.parse(next[0].body), { ok: true });
  });

  for (const te of ['gzip, chunked', 'gzip']) {
    test(`Transfer-Encoding: ${te} → 501 {"error":"Unsupported Transfer-Encoding"} and the connection is closed`, async () => {
      const token = ctx.token(newUser('te'));
      const body = '{"name":"x"}';
      const raw = `POST /api/projects HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\n`
        + `Transfer-Encoding: ${te}\r\n\r\n${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
      const r = await rawExchange(ctx.server, raw, { timeout: 5000 });
      const [res] = parseResponses(r.data);
      assert.ok(res, `an answer is expected: ${JSON.stringify(r.data.slice(0, 300))}`);
      assert.equal(res.status, 501, `got ${res.status} ${res.body.slice(0, 300)}`);
      assert.deepEqual(JSON.parse(res.body), { error: 'Unsupported Transfer-Encoding' });
      assert.ok(r.closed, 'the server closes the connection');
      const list = expectOk(await request(ctx.server, 'GET', '/api/projects', { token }));
      assert.deepEqual(list, [], 'nothing was created');
    });
  }

  const SUGGESTION = { code: 'function add(a, b) {\n  \n}\n', fileName: 'a.js', currentLine: '  ', lineNumber: 2 };
  for (const [what, raw] of [
    ['lineNumber 1e300', `{"code":"x","lineNumber":1e300}`],
    ['lineNumber -5', `{"code":"x","lineNumber":-5}`],
    ['lineNumber 1e9 + 1', `{"code":"x","lineNumber":1000000001}`],
    ['lineNumber -1e300', `{"code":"x","lineNumber":-1e300}`],
    ['lineNumber "NaN"', `{"code":"x","lineNumber":"NaN"}`],
    ['lineNumber "Infinity"', `{"code":"x","lineNumber":"Infinity"}`],
    ['lineNumber "1e300"', `{"code":"x","lineNumber":"1e300"}`],
    ['lineNumber 1e400 (overflows a double)', `{"code":"x","lineNumber":1e400}`],
  ]) {
    test(`/api/suggestion with ${what} → 400, the provider is not asked`, async () => {
      const c = ctx.client(newUser('line'));
      await ctx.primary.script([{ type: 'text', text: 'never' }]);
      const res = await c.req('POST', '/api/suggestion', { raw });
      expectStatus(res, 400, what);
      assert.equal((await ctx.primary.requests()).length, 0, 'the provider must not be asked');
    });
  }

  test('/api/suggestion names lineNumber in its 400 and accepts 0 and 1e9', async () => {
    const c = ctx.client(newUser('line-ok'));
    const bad = await c.post('/api/suggestion', { ...SUGGESTION, lineNumber: 1e300 });
    expectStatus(bad, 400, 'lineNumber 1e300');
    assert.match(bad.json.error, /lineNumber/, `the error names the field: ${describeRes(bad)}`);
    for (const lineNumber of [0, 1e9]) {
      await ctx.primary.script([{ type: 'text', text: 'ok' }]);
      const res = await c.post('/api/suggestion', { ...SUGGESTION, lineNumber });
      assert.deepEqual(expectOk(res, `lineNumber ${lineNumber}`), { suggestion: 'ok' });
    }
  });
});

// ---------------------------------------------------------------- SSE streams per user

describe('limits: streams_per_user on SSE (POLARIS_MAX_STREAMS_PER_USER=2)', () => {
  const ctx = useServer({ env: { POLARIS_MAX_STREAMS_PER_USER: '2' } });

  test('the third SSE stream of one user → 429 {error, limit:"streams_per_user"} + Retry-After; another user is not affected; after one closes a new one opens', async (t) => {
    const user = newUser('sse-cap');
    const c = ctx.client(user);
    const projectId = expectOk(await c.post('/api/projects', { name: 'cap' })).projectId;
    const conversationId = expectOk(await c.post('/api/conversations', { projectId, title: 'cap' })).conversationId;
    const open = [];
    try {
      for (let i = 0; i < 2; i++) {
        const s = await openSse(ctx.server, eventsPath(conversationId), c.token);
        open.push(s);
        assert.equal(s.status, 200, `stream ${i + 1}: ${s.status} ${s.body}`);
      }
      const third = await openSse(ctx.server, eventsPath(conversationId), c.token);
      if (third.status === 200) open.push(third);
      assert.equal(third.status, 429, `the third stream: ${third.status} ${third.body.slice(0, 300)}`);
      assert.equal(typeof third.json?.error, 'string', `429 body has "error": ${third.body}`);
      assert.equal(third.json.limit, 'streams_per_user', `429 body names the limit: ${third.body}`);
      assert.match(String(third.headers['retry-after'] ?? ''), /^\d+$/, `Retry-After (seconds) is set: ${JSON.stringify(third.headers)}`);
      assert.ok(await limitHits(ctx.server, 'streams_per_user') >= 1, 'counted in /metrics');

      const o = ctx.client(newUser('sse-cap-other'));
      const op = expectOk(await o.post('/api/projects', { name: 'other' })).projectId;
      const oc = expectOk(await o.post('/api/conversations', { projectId: op, title: 'o' })).conversationId;
      const os = await openSse(ctx.server, eventsPath(oc), o.token);
      open.push(os);
      assert.equal(os.status, 200, 'another user is not affected');

      open[0].close();
      // The contract does not say how soon a closed stream stops counting. The server may
      // notice it only when its heartbeat writes (every 15 s) fail, which takes two of them
      // (~30 s), so allow for that.
      const closedAt = Date.now();
      let again;
      await waitFor(async () => {
        const s = await openSse(ctx.server, eventsPath(conversationId), c.token);
        if (s.status === 200) { again = s; return true; }
        return false;
      }, { timeout: 40_000, interval: 250, what: 'a new stream once one of the two closed' });
      open.push(again);
      t.diagnostic(`a new stream was accepted ${Date.now() - closedAt} ms after one closed`);
    } finally {
      for (const s of open) s.close();
    }
  });
});

// ---------------------------------------------------------------- /metrics token

describe('limits: POLARIS_METRICS_TOKEN', () => {
  const token = `mt-${randomSecret()}`;
  const ctx = useServer({ env: { POLARIS_METRICS_TOKEN: token } });

  test('/metrics: 401 without a bearer or with a wrong one, 200 with the token; /healthz stays open', async () => {
    const none = await request(ctx.server, 'GET', '/metrics');
    expectStatus(none, 401, 'no Authorization');
    const wrong = await request(ctx.server, 'GET', '/metrics', { auth: `Bearer ${token}x` });
    expectStatus(wrong, 401, 'wrong token');
    const user = await request(ctx.server, 'GET', '/metrics', { token: makeToken('u', ctx.server.secret) });
    expectStatus(user, 401, 'a user JWT is not the metrics token');
    const ok = await request(ctx.server, 'GET', '/metrics', { auth: `Bearer ${token}` });
    assert.equal(ok.status, 200, describeRes(ok));
    assert.match(ok.text, /^polaris_/m, 'Prometheus text');
    expectOk(await request(ctx.server, 'GET', '/healthz'));
  });
});

// ---------------------------------------------------------------- connections and descriptors

describe('limits: the connection cap (POLARIS_MAX_CONNECTIONS=50)', () => {
  const ctx = useServer({ env: { POLARIS_MAX_CONNECTIONS: '50' } });

  test('60 idle sockets: the extra ones get 503 {"limit":"connections"} + Retry-After: 1 and are closed; no CPU spin; /healthz recovers', async (t) => {
    const pid = ctx.server.proc.pid;
    const held = [];
    try {
      for (let i = 0; i < 60; i++) held.push(await openIdle(ctx.server.port));
      const refused = () => held.filter((h) => h.data.length > 0);
      await waitFor(() => refused().length >= 10 && refused().every((h) => h.closed), { timeout: 5000, what: '10 refused sockets to be answered and closed' })
        .catch(() => {});
      const cpu = await cpuOver(pid, 2000);
      t.diagnostic(`refused ${refused().length}, CPU ${cpu.toFixed(3)} s over 2 s`);
      assert.ok(refused().length >= 10 && refused().length <= 15,
        `the sockets over the cap (10, or a few more if a client socket was already open) are answered; got ${refused().length}`);
      for (const h of refused()) {
        const [res] = parseResponses(h.data);
        assert.ok(res && !res.incomplete, `a complete answer: ${JSON.stringify(h.data.slice(0, 300))}`);
        assert.equal(res.status, 503, `refused with 503: ${JSON.stringify(h.data.slice(0, 300))}`);
        assert.equal(res.headers['retry-after'], '1');
        const body = JSON.parse(res.body);
        assert.equal(body.limit, 'connections', res.body);
        assert.equal(typeof body.error, 'string');
        assert.ok(h.closed, 'a refused socket is closed by the server');
      }
      assert.ok(held.filter((h) => !h.closed).length >= 45, 'the sockets under the cap stay open');
      assert.ok(cpu < 0.5, `the server must not spin while at the cap: ${cpu.toFixed(3)} s CPU in 2 s`);
      // Still responsive at the cap: a new client gets the 503 at once.
      const at = await request(ctx.server, 'GET', '/healthz', { timeout: 5000 });
      assert.equal(at.status, 503, `at the cap /healthz gets the 503: ${describeRes(at)}`);
    } finally {
      for (const h of held) h.socket.destroy();
    }
    await waitFor(async () => (await request(ctx.server, 'GET', '/healthz', { timeout: 2000 }).catch(() => ({ status: 0 }))).status === 200,
      { timeout: 10_000, interval: 100, what: '/healthz to answer 200 once the sockets are closed' });
    assert.ok(await limitHits(ctx.server, 'connections') >= 10, 'refusals counted in /metrics');
  });
});

describe('limits: file descriptors', () => {
  test('at start the soft RLIMIT_NOFILE is raised to the hard limit', async () => {
    const server = await startWithNofile(256, 4096);
    try {
      assert.deepEqual(nofileOf(server.proc.pid), { soft: '4096', hard: '4096' });
      expectOk(await request(server, 'GET', '/healthz'));
    } finally {
      await server.stop();
    }
  });

  test('with 128 descriptors, 200 sockets: no CPU spin, the server answers meanwhile and /healthz recovers after they close', async (t) => {
    const server = await startWithNofile(128, 128);
    const held = [];
    try {
      assert.deepEqual(nofileOf(server.proc.pid), { soft: '128', hard: '128' }, 'the limit applies to the server process');
      for (let i = 0; i < 200; i++) held.push(await openIdle(server.port));
      await sleep(500);
      const cpu = await cpuOver(server.proc.pid, 2000);
      const answered = held.filter((h) => h.data.length > 0).length;
      t.diagnostic(`CPU ${cpu.toFixed(3)} s over 2 s; ${answered} sockets answered, ${held.filter((h) => h.closed).length} closed`);
      assert.ok(server.alive(), `the server died: ${server.stderr.slice(-2000)}`);
      assert.ok(cpu < 0.5, `the server must not spin when descriptors run out: ${cpu.toFixed(3)} s CPU in 2 s`);
      const during = await request(server, 'GET', '/healthz', { timeout: 5000 });
      assert.ok([200, 503].includes(during.status), `the server answers while out of descriptors: ${describeRes(during)}`);
      if (during.status === 503) expectErrorBody(during, 'healthz at the cap');
    } finally {
      for (const h of held) h.socket.destroy();
    }
    try {
      await waitFor(async () => (await request(server, 'GET', '/healthz', { timeout: 2000 }).catch(() => ({ status: 0 }))).status === 200,
        { timeout: 10_000, interval: 100, what: '/healthz to answer 200 once the sockets are closed' });
    } finally {
      await server.stop();
    }
  });
});

// ---------------------------------------------------------------- bodies before the token

describe('limits: bodies without a token, requests in flight (POLARIS_MAX_REQUESTS_PER_USER=2)', () => {
  const ctx = useServer({ env: { POLARIS_MAX_REQUESTS_PER_USER: '2' } });

  test('an anonymous 900 KB body to a route that needs a token is refused with 401 before it is read', async () => {
    for (const size of [900_000, 2_000_000]) {
      const raw = JSON.stringify({ name: 'x'.repeat(size) });
      const res = await request(ctx.server, 'POST', '/api/projects', { raw });
      expectStatus(res, 401, `no token, ${size} bytes: the token is checked before the body`);
    }
  });

  test('an anonymous body over 64 KiB to an open or unknown route is 413 request_body_bytes; a small one is served', async () => {
    const big = JSON.stringify({ pad: 'x'.repeat(100_000) });
    for (const route of ['/api/query_ts', '/no/such/route']) {
      const res = await request(ctx.server, 'POST', route, { raw: big });
      expectStatus(res, 413, `anonymous 100 KB to ${route}`);
      assert.equal(res.json.limit, 'request_body_bytes');
    }
    const small = await request(ctx.server, 'POST', '/api/query_ts', { raw: '{}' });
    expectOk(small, 'small anonymous query_ts');
    // A signed-in user may still send up to 1 MiB.
    const token = makeToken(newUser('big'), ctx.server.secret);
    const ok = await request(ctx.server, 'POST', '/api/projects', { token, body: { name: 'p', pad: 'x'.repeat(500_000) } });
    expectOk(ok, 'signed-in 500 KB body');
  });

  test('a third request in flight of one user gets 429 requests_per_user; another user and later requests are fine', async () => {
    const user = newUser('inflight');
    const token = makeToken(user, ctx.server.secret);
    // Two requests whose bodies never finish arriving: both are in flight.
    const held = [];
    for (let i = 0; i < 2; i++) {
      const s = net.connect({ host: '127.0.0.1', port: ctx.server.port });
      await new Promise((r) => s.once('connect', r));
      s.write(`POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"name":');
      held.push(s);
    }
    await sleep(200);
    const third = await request(ctx.server, 'GET', '/api/projects', { token });
    expectStatus(third, 429, 'third request in flight');
    assert.equal(third.json.limit, 'requests_per_user');
    assert.ok(Number(third.headers.get('retry-after')) >= 1, 'Retry-After');
    const other = await request(ctx.server, 'GET', '/api/projects', { token: makeToken(newUser('other'), ctx.server.secret) });
    expectOk(other, 'another user is not affected');
    for (const s of held) s.destroy();
    await sleep(200);
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token }), 'slots come back when the requests end');
    assert.ok(await limitHits(ctx.server, 'requests_per_user') >= 1, 'counted in /metrics');
  });
});

describe('limits: body sizes are configurable (POLARIS_MAX_BODY_BYTES=20000, POLARIS_MAX_ANONYMOUS_BODY_BYTES=1000)', () => {
  const ctx = useServer({ env: { POLARIS_MAX_BODY_BYTES: '20000', POLARIS_MAX_ANONYMOUS_BODY_BYTES: '1000' } });

  test('a signed-in 30 KB body and an anonymous 2 KB body are 413 request_body_bytes; smaller ones are served', async () => {
    const token = makeToken(newUser('bodies'), ctx.server.secret);
    const big = await request(ctx.server, 'POST', '/api/projects', { token, body: { name: 'p', pad: 'x'.repeat(30_000) } });
    expectStatus(big, 413, 'signed-in 30 KB');
    assert.equal(big.json.limit, 'request_body_bytes');
    assert.match(big.json.error, /20000 bytes/);
    expectOk(await request(ctx.server, 'POST', '/api/projects', { token, body: { name: 'p', pad: 'x'.repeat(10_000) } }));
    const anon = await request(ctx.server, 'POST', '/api/query_ts', { raw: JSON.stringify({ pad: 'y'.repeat(2000) }) });
    expectStatus(anon, 413, 'anonymous 2 KB');
    assert.equal(anon.json.limit, 'request_body_bytes');
    expectOk(await request(ctx.server, 'POST', '/api/query_ts', { raw: '{}' }));
  });
});

// Helpers for the Convex-protocol tests: a recording WebSocket for the official client, query
// subscription recorders, a raw sync-protocol socket, an SSE reader, u64 timestamp decoding and
// a same-port restart. Server/mock lifecycle comes from the e2e helpers (../e2e/lib).
import assert from 'node:assert/strict';
import { after } from 'node:test';
import fs from 'node:fs';
import http from 'node:http';
import WebSocket from 'ws';
import { startServer, sleep } from '../e2e/lib/server.mjs';
import { rebuildFromEvents, show } from '../e2e/lib/sse.mjs';

export { WebSocket, sleep, rebuildFromEvents, show };

export const CONVEX_VERSION = '1.48.0';
export const ZERO_TS = 'AAAAAAAAAAA=';
const DEFAULT_TIMEOUT = 15_000;

// ---------------------------------------------------------------- waiting

/**
 * Polls fn() until it returns a truthy value. On timeout throws with `what` and, if given,
 * detail() (the state that was last seen).
 */
export async function eventually(fn, { timeout = DEFAULT_TIMEOUT, interval = 20, what = 'condition', detail } = {}) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) {
      let extra = '';
      if (detail) {
        try { extra = `\nlast seen: ${String(detail()).slice(0, 3000)}`; } catch (e) { extra = `\n(detail failed: ${e})`; }
      }
      throw new Error(`timed out after ${timeout} ms waiting for ${what}${extra}`);
    }
    await sleep(interval);
  }
}

// ---------------------------------------------------------------- u64 timestamps

/** Decodes a Convex u64 (base64 of 8 little-endian bytes, padded) into a BigInt. */
export function decodeTs(s, what = 'ts') {
  assert.equal(typeof s, 'string', `${what} must be a string, got ${show(s)}`);
  assert.match(s, /^[A-Za-z0-9+/\-_]{11}=$/, `${what} must be 12 base64 characters ending in "=", got ${show(s)}`);
  const buf = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  assert.equal(buf.length, 8, `${what} must decode to 8 bytes, got ${buf.length}`);
  return buf.readBigUInt64LE(0);
}

export function encodeTs(n) {
  const buf = Buffer.alloc(8);
  buf.writeBigUInt64LE(BigInt(n));
  return buf.toString('base64');
}

/** Asserts a ts is a plausible "nanoseconds since the epoch" value (within an hour of now). */
export function assertNsClock(ts, what = 'ts') {
  const v = decodeTs(ts, what);
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  const hour = 3_600n * 1_000_000_000n;
  assert.ok(v > nowNs - hour && v < nowNs + hour,
    `${what} should be wall-clock nanoseconds since the epoch (protocol §2.1), got ${v} (now ≈ ${nowNs})`);
}

// ---------------------------------------------------------------- the official client

/**
 * A `ws` WebSocket subclass that records every frame each socket sends and receives, so tests
 * can check what the official client and the server said to each other.
 * rec.sockets: [{url, sent: [msg], received: [msg], binaryFrames: n, closed: {code, reason}|null}]
 */
export function recordingWebSocket() {
  const rec = { sockets: [] };
  class RecordingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      const s = { url: String(args[0]), sent: [], received: [], binaryFrames: 0, closed: null };
      rec.sockets.push(s);
      this._rec = s;
      this.on('message', (data, isBinary) => {
        if (isBinary) { s.binaryFrames += 1; return; }
        try { s.received.push(JSON.parse(data.toString('utf8'))); } catch { s.received.push({ unparseable: data.toString('utf8') }); }
      });
      this.on('close', (code, reason) => { s.closed = { code, reason: reason.toString() }; });
    }
    send(data, ...rest) {
      try { this._rec.sent.push(JSON.parse(data)); } catch { this._rec.sent.push({ unparseable: String(data) }); }
      return super.send(data, ...rest);
    }
  }
  rec.Ctor = RecordingWebSocket;
  rec.received = () => rec.sockets.flatMap((s) => s.received);
  rec.sent = () => rec.sockets.flatMap((s) => s.sent);
  return rec;
}

/** A logger for the convex client that keeps every line (and stays quiet). */
export function captureLogger() {
  const lines = [];
  const push = (level) => (...args) => lines.push({ level, text: args.map((a) => (a instanceof Error ? a.message : typeof a === 'string' ? a : show(a))).join(' ') });
  return {
    lines,
    logger: { logVerbose: () => {}, log: push('log'), warn: push('warn'), error: push('error') },
    text: () => lines.map((l) => `[${l.level}] ${l.text}`).join('\n'),
  };
}

/**
 * Asserts, for every recorded socket, what the official client relies on: text frames only,
 * every Transition's startVersion equals the previous endVersion (first one starts at
 * {0,0,0}), ts never goes down, querySet/identity never go down.
 */
export function assertProtocolInvariants(rec) {
  for (const [i, s] of rec.sockets.entries()) {
    assert.equal(s.binaryFrames, 0, `socket ${i}: the server must send text frames only`);
    let prev = { querySet: 0, identity: 0, ts: ZERO_TS };
    for (const m of s.received) {
      assert.ok(m && typeof m.type === 'string', `socket ${i}: every server message needs a "type": ${show(m)}`);
      if (m.type !== 'Transition') continue;
      assert.deepEqual(normVersion(m.startVersion), normVersion(prev),
        `socket ${i}: Transition startVersion must equal the previous endVersion ${show(prev)}: ${show(m).slice(0, 500)}`);
      const end = m.endVersion;
      assert.ok(decodeTs(end.ts, 'endVersion.ts') >= decodeTs(prev.ts), `socket ${i}: ts went down: ${show(prev)} -> ${show(end)}`);
      assert.ok(end.querySet >= prev.querySet && end.identity >= prev.identity, `socket ${i}: version went down: ${show(prev)} -> ${show(end)}`);
      prev = end;
    }
  }
}

function normVersion(v) {
  assert.ok(v && typeof v === 'object', `version must be an object, got ${show(v)}`);
  return { querySet: v.querySet, identity: v.identity, ts: decodeTs(v.ts, 'version ts').toString() };
}

/** Client options: the ws constructor (Node 20 has no global WebSocket), no console noise. */
export function clientOptions(extra = {}) {
  const rec = extra.rec || recordingWebSocket();
  const log = extra.log || captureLogger();
  return {
    rec,
    log,
    options: { webSocketConstructor: rec.Ctor, logger: log.logger, unsavedChangesWarning: false, ...(extra.options || {}) },
  };
}

/**
 * Subscribes with client.onUpdate and records every callback.
 * w.events: [{value} | {error}] in order; w.values; w.errors.
 */
export function watch(client, ref, args) {
  const w = { events: [], values: [], errors: [] };
  const unsub = client.onUpdate(ref, args,
    (value) => { w.values.push(value); w.events.push({ value }); },
    (error) => { w.errors.push(error); w.events.push({ error }); });
  w.unsubscribe = () => unsub();
  w.current = () => unsub.getCurrentValue();
  w.last = () => w.events.at(-1);
  w.lastValue = () => w.values.at(-1);
  const describe = () => show(w.events.slice(-3).map((e) => (e.error ? { error: e.error.message } : e)));
  /** Waits until the latest event is a value satisfying pred; returns it. */
  w.until = (pred, what = 'a matching query value', timeout) => eventually(() => {
    const l = w.last();
    return l && !l.error && pred(l.value) ? { v: l.value } : null;
  }, { timeout, what, detail: describe }).then((r) => r.v);
  /** Waits until the latest event is an error; returns it. */
  w.untilError = (what = 'a query error', timeout) => eventually(() => {
    const l = w.last();
    return l && l.error ? l.error : null;
  }, { timeout, what, detail: describe });
  return w;
}

// ---------------------------------------------------------------- server restart

/**
 * SIGTERMs `server` (keeping its data dir) and starts a new one on the same port, data dir,
 * database and secret. `startServer` always passes `--port 0` unless envOnly is set (and CLI11
 * refuses a second --port), so this configures through the environment and passes only
 * `--port N` on the command line. Retries for a few seconds in case the port is not free yet.
 */
export async function restartOnSamePort(server, env) {
  await server.stop({ keepDir: true });
  let lastErr;
  const deadline = Date.now() + 8_000;
  while (Date.now() < deadline) {
    try {
      const s2 = await startServer({
        dataDir: server.dataDir, dbPath: server.dbPath, secret: server.secret, env,
        envOnly: true, args: ['--port', String(server.port)],
      });
      assert.equal(s2.port, server.port, 'restarted server must listen on the same port');
      return s2;
    } catch (e) {
      lastErr = e;
      await sleep(200);
    }
  }
  throw lastErr;
}

// ---------------------------------------------------------------- raw sync protocol

/** Opens a raw WebSocket on the sync route and queues what the server sends. */
export async function openSync(server, path = `/api/${CONVEX_VERSION}/sync`) {
  const url = server.url.replace(/^http/, 'ws') + path;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  const conn = {
    ws,
    url,
    inbox: [], // parsed messages not consumed yet
    all: [], // every message received
    binaryFrames: 0,
    closed: null, // {code, reason} once closed
    unparseable: [],
  };
  let wake = null;
  const poke = () => { if (wake) { const w = wake; wake = null; w(); } };
  ws.on('message', (data, isBinary) => {
    if (isBinary) { conn.binaryFrames += 1; poke(); return; }
    let m;
    try { m = JSON.parse(data.toString('utf8')); } catch { conn.unparseable.push(data.toString('utf8')); poke(); return; }
    conn.all.push(m);
    if (m.type !== 'Ping') conn.inbox.push(m); else conn.pings = (conn.pings || 0) + 1;
    poke();
  });
  conn.closedPromise = new Promise((resolve) => {
    ws.on('close', (code, reason) => { conn.closed = { code, reason: reason.toString() }; poke(); resolve(conn.closed); });
  });
  ws.on('error', (e) => { conn.error = e; poke(); });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('unexpected-response', (req, res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => reject(new Error(`sync route ${path}: HTTP ${res.statusCode} instead of a WebSocket upgrade: ${body.slice(0, 300)}`)));
    });
    ws.once('error', reject);
  });
  const waitChange = (ms) => new Promise((r) => { const t = setTimeout(r, ms); wake = () => { clearTimeout(t); r(); }; });

  conn.send = (msg) => ws.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  /**
   * Next message (optionally the next one with `type`; skipped ones are dropped unless
   * keep is set). Throws on timeout or close.
   */
  conn.next = async (type, { timeout = DEFAULT_TIMEOUT } = {}) => {
    const deadline = Date.now() + timeout;
    for (;;) {
      assert.equal(conn.binaryFrames, 0, 'the server must send text frames only');
      assert.deepEqual(conn.unparseable, [], 'every frame must be one JSON object');
      while (conn.inbox.length) {
        const m = conn.inbox.shift();
        if (!type || m.type === type) return m;
        if (conn.strict) throw new Error(`expected ${type}, got ${show(m).slice(0, 600)}`);
      }
      if (conn.closed) throw new Error(`socket closed (${show(conn.closed)}) while waiting for ${type || 'a message'}; received: ${show(conn.all).slice(-1500)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${timeout} ms waiting for ${type || 'a message'}; received: ${show(conn.all).slice(-1500)}`);
      await waitChange(left);
    }
  };
  /** Exactly the next message; asserts its type. */
  conn.expect = async (type, opts) => {
    const m = await conn.next(undefined, opts);
    assert.equal(m.type, type, `expected ${type}, got ${show(m).slice(0, 800)}`);
    return m;
  };
  /** Resolves {message} or {closed} or {timeout}, whichever comes first, without consuming messages. */
  conn.settle = async (ms) => {
    const deadline = Date.now() + ms;
    for (;;) {
      if (conn.inbox.length) return { message: conn.inbox[0] };
      if (conn.closed) return { closed: conn.closed };
      const left = deadline - Date.now();
      if (left <= 0) return { timeout: true };
      await waitChange(left);
    }
  };
  conn.waitClosed = async (timeout = DEFAULT_TIMEOUT) => {
    let t;
    const r = await Promise.race([conn.closedPromise, new Promise((res) => { t = setTimeout(() => res(null), timeout); })]);
    clearTimeout(t);
    return r;
  };
  conn.close = () => {
    if (!conn.closed) {
      try { ws.terminate(); } catch { /* already gone */ }
    }
    return conn.closedPromise;
  };
  return conn;
}

export function connectMsg(sessionId, extra = {}) {
  return {
    type: 'Connect', sessionId, connectionCount: 0, lastCloseReason: 'InitialConnect', clientTs: Date.now(), ...extra,
  };
}

// ---------------------------------------------------------------- SSE

// rebuildFromEvents (snapshot/message/delta events to a message list) is re-exported from
// ../e2e/lib/sse.mjs, above.

/** openSse against ctx.server, every stream closed after the file's tests. */
export function useSse(ctx) {
  const streams = new Set();
  after(() => { for (const s of streams) s.close(); });
  return async (path, opts) => {
    const s = await openSse(ctx.server, path, opts);
    streams.add(s);
    return s;
  };
}

/**
 * GET an SSE stream with node:http; parses frames as they arrive.
 * Resolves once the response head is in: {status, headers, events, comments, body (non-200),
 * next(pred), until(pred), close()}. An event is {id, event, data, json}.
 */
export function openSse(server, path, { token, lastEventId, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const h = { accept: 'text/event-stream', ...headers };
    if (token) h.authorization = `Bearer ${token}`;
    if (lastEventId !== undefined) h['last-event-id'] = String(lastEventId);
    const req = http.request(`${server.url}${path}`, { method: 'GET', headers: h });
    const timer = setTimeout(() => { req.destroy(new Error(`no response head for GET ${path} within 15 s`)); }, DEFAULT_TIMEOUT);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.on('response', (res) => {
      clearTimeout(timer);
      const s = {
        status: res.statusCode, headers: res.headers, events: [], comments: [], raw: '', ended: false, req, res,
        body: '',
      };
      let wake = null;
      const poke = () => { if (wake) { const w = wake; wake = null; w(); } };
      let buf = '';
      let cur = { data: [] };
      let hasField = false;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        s.raw += chunk;
        if (s.status !== 200) { s.body += chunk; return; }
        buf += chunk;
        for (;;) {
          const m = /\r\n|\n|\r/.exec(buf);
          if (!m) break;
          // A lone \r at the end of the buffer may be half of \r\n: wait for more.
          if (m[0] === '\r' && m.index === buf.length - 1) break;
          const line = buf.slice(0, m.index);
          buf = buf.slice(m.index + m[0].length);
          if (line === '') {
            if (hasField) {
              const ev = { id: cur.id, event: cur.event ?? 'message', data: cur.data.join('\n') };
              try { ev.json = JSON.parse(ev.data); } catch { ev.json = undefined; }
              s.events.push(ev);
            }
            cur = { data: [] };
            hasField = false;
            poke();
            continue;
          }
          if (line.startsWith(':')) { s.comments.push(line.slice(1)); continue; }
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          let value = i < 0 ? '' : line.slice(i + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') { cur.data.push(value); hasField = true; } else if (field === 'event') { cur.event = value; hasField = true; } else if (field === 'id') { cur.id = value; hasField = true; } else if (field === 'retry') { /* ignored */ }
        }
      });
      res.on('end', () => { s.ended = true; poke(); });
      res.on('close', () => { s.ended = true; poke(); });
      res.on('error', () => { s.ended = true; poke(); });
      const waitChange = (ms) => new Promise((r) => { const t = setTimeout(r, ms); wake = () => { clearTimeout(t); r(); }; });
      /** Waits until pred(events) is truthy; returns its value. */
      s.until = async (pred, what = 'SSE events', timeout = DEFAULT_TIMEOUT) => {
        const deadline = Date.now() + timeout;
        for (;;) {
          const v = pred(s.events);
          if (v) return v;
          if (s.ended) throw new Error(`SSE stream ended while waiting for ${what}; events: ${show(s.events).slice(-2000)}`);
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`timed out after ${timeout} ms waiting for ${what}; events: ${show(s.events).slice(-2000)}`);
          await waitChange(left);
        }
      };
      s.close = () => { req.destroy(); res.destroy(); };
      if (s.status !== 200) {
        res.on('end', () => {
          try { s.json = JSON.parse(s.body); } catch { s.json = undefined; }
          resolve(s);
        });
      } else {
        resolve(s);
      }
    });
    req.end();
  });
}

/**
 * The server side of serverPort <-> 127.0.0.1:clientPort in /proc/net/tcp: {state ('01'
 * established), txQueue (bytes the server wrote that are not yet acknowledged)}, or null when
 * the connection is gone.
 */
export function serverSideTcp(serverPort, clientPort) {
  const hex = (p) => p.toString(16).toUpperCase().padStart(4, '0');
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 5) continue;
      if (f[1].split(':').at(-1) === hex(serverPort) && f[2].split(':').at(-1) === hex(clientPort)) {
        return { state: f[3], txQueue: parseInt(f[4].split(':')[0], 16) };
      }
    }
  }
  return null;
}

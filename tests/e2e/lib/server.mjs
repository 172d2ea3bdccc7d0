// Black-box helpers for the Polaris end-to-end tests: start/stop the binary, mint tokens,
// make JSON requests, and talk raw HTTP over a socket. Node built-ins only.
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { spawn, execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '..', '..', '..');
export const POLARIS_BIN = process.env.POLARIS_BIN
  ? path.resolve(process.env.POLARIS_BIN)
  : path.join(REPO_ROOT, 'build', 'polaris');

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;

// Nothing in the developer's shell may change what the server under test does: every server
// setting (POLARIS_*, provider keys, URLs and models, PORT) is dropped, except the variables
// that configure the test harness itself. A test sets what it needs through opts.env.
const HARNESS_ENV = /^POLARIS_(BIN|TEST_.*|SANITIZED)$/;
const SERVER_ENV = /^(POLARIS_|OPENROUTER_|CEREBRAS_|PORT$)/;

export function serverEnv(extra) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (SERVER_ENV.test(k) && !HARNESS_ENV.test(k)) delete env[k];
  }
  for (const [k, v] of Object.entries(extra || {})) {
    if (v === undefined || v === null) delete env[k];
    else env[k] = String(v);
  }
  return env;
}

export function randomSecret() {
  return crypto.randomBytes(32).toString('hex');
}

// With POLARIS_TEST_PG_URI set (scripts/run-tests.sh starts a throwaway cluster), servers
// store their data in PostgreSQL: one fresh database per data dir, named in the dir so that a
// restart on the same dir finds the same database.
const PG_URI = process.env.POLARIS_TEST_PG_URI || '';
export const ON_POSTGRES = PG_URI !== '';
/** Creates a fresh, empty database on the POLARIS_TEST_PG_URI server; returns its URI. */
export function createPgDatabase() {
  if (!PG_URI) throw new Error('createPgDatabase needs POLARIS_TEST_PG_URI');
  const name = `polaris_${crypto.randomBytes(6).toString('hex')}`;
  execFileSync('psql', [PG_URI, '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name}`],
    { stdio: ['ignore', 'ignore', 'pipe'] });
  return PG_URI.replace(/\/[^/?]*(\?.*)?$/, `/${name}`);  // the same server, the new database
}
function postgresDbFor(dataDir) {
  const file = path.join(dataDir, 'pg-database');
  if (fs.existsSync(file)) return fs.readFileSync(file, 'utf8').trim();
  const uri = createPgDatabase();
  fs.writeFileSync(file, uri);
  return uri;
}

export function makeTempDir(prefix = 'polaris-e2e-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/**
 * Starts `polaris serve` on a free port.
 * opts.dataDir  reuse a data dir (restart); default: fresh temp dir
 * opts.secret   POLARIS_JWT_SECRET; default random; pass null to leave it unset
 * opts.env      extra env vars (undefined/null value removes a var)
 * opts.args     extra CLI args
 * opts.db       an explicit --db value (e.g. createPgDatabase()), shared by several processes
 */
export async function startServer(opts = {}) {
  if (!fs.existsSync(POLARIS_BIN)) {
    throw new Error(`polaris binary not found at ${POLARIS_BIN} (build it or set POLARIS_BIN)`);
  }
  const ownsDir = !opts.dataDir;
  const dataDir = opts.dataDir || makeTempDir();
  const secret = opts.secret === undefined ? randomSecret() : opts.secret;
  const dbPath = opts.dbPath || path.join(dataDir, 'polaris.db');
  // A test that names its SQLite file (dbPath) is about SQLite, unless it restarts a server
  // that was on PostgreSQL; the others follow the suite.
  const onPostgres = ON_POSTGRES &&
    (!opts.dbPath || fs.existsSync(path.join(dataDir, 'pg-database')));
  const db = opts.db || (onPostgres ? postgresDbFor(dataDir) : `sqlite:${dbPath}`);
  const env = serverEnv({ POLARIS_JWT_SECRET: secret ?? undefined, ...(opts.env || {}) });
  // opts.envOnly: configure host/port/data dir/db through environment variables, not flags.
  const args = opts.envOnly
    ? ['serve', ...(opts.args || [])]
    : ['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--db', db,
      ...(opts.args || [])];
  if (opts.envOnly) {
    Object.assign(env, { POLARIS_HOST: '127.0.0.1', PORT: '0', POLARIS_DATA_DIR: dataDir, POLARIS_DB: db });
  }
  const proc = spawn(POLARIS_BIN, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; if (stderr.length > 200_000) stderr = stderr.slice(-100_000); });

  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => resolve({ code, signal }));
  });

  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`polaris did not print its listening line within ${START_TIMEOUT_MS} ms.\n` +
        `stdout: ${stdout}\nstderr: ${stderr}`));
    }, START_TIMEOUT_MS);
    proc.stdout.on('data', (d) => {
      stdout += d;
      if (stdout.length > 200_000) stdout = stdout.slice(-100_000);
      const m = /polaris listening on http:\/\/([^\s:/]+):(\d+)/.exec(stdout);
      if (m) { clearTimeout(timer); resolve(Number(m[2])); }
    });
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`polaris exited before listening (code ${code}, signal ${signal}).\n` +
        `args: ${args.join(' ')}\nstdout: ${stdout}\nstderr: ${stderr}`));
    });
  });
  assert.ok(port > 0, `listening line must carry a real port, got ${port}`);

  const server = {
    proc, port, dataDir, dbPath, db, secret, args, env,
    url: `http://127.0.0.1:${port}`,
    get stdout() { return stdout; },
    get stderr() { return stderr; },
    exited,
    stopped: false,
    /** SIGTERM, then asserts a clean exit (code 0) within 10 s. */
    async stop({ keepDir = false } = {}) {
      if (server.stopped) return;
      server.stopped = true;
      proc.kill('SIGTERM');
      let timer;
      const res = await Promise.race([
        exited,
        new Promise((r) => { timer = setTimeout(() => r(null), STOP_TIMEOUT_MS); }),
      ]);
      clearTimeout(timer);
      if (res === null) {
        proc.kill('SIGKILL');
        await exited;
      }
      if (ownsDir && !keepDir) fs.rmSync(dataDir, { recursive: true, force: true });
      assert.ok(res !== null, `polaris did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM\nstderr tail: ${stderr.slice(-2000)}`);
      assert.equal(res.code, 0, `polaris must exit 0 on SIGTERM, got code ${res.code} signal ${res.signal}\nstderr tail: ${stderr.slice(-2000)}`);
    },
    /** kill -9; data dir is kept. */
    async kill9() {
      server.stopped = true;
      proc.kill('SIGKILL');
      return exited;
    },
    alive() { return proc.exitCode === null && proc.signalCode === null; },
    cleanup() { fs.rmSync(dataDir, { recursive: true, force: true }); },
  };
  return server;
}

// ---------------------------------------------------------------- tokens

export const b64url = (buf) => Buffer.from(buf).toString('base64url');
const b64json = (obj) => b64url(JSON.stringify(obj));

/** Signs a JWT with HMAC-SHA256 over `header.payload` (header is used verbatim). */
export function signJwt(payload, secret, header = { alg: 'HS256', typ: 'JWT' }) {
  const h = typeof header === 'string' ? header : b64json(header);
  const p = typeof payload === 'string' ? payload : b64json(payload);
  const sig = crypto.createHmac('sha256', Buffer.from(secret, 'utf8')).update(`${h}.${p}`).digest();
  return `${h}.${p}.${b64url(sig)}`;
}

const nowSec = () => Math.floor(Date.now() / 1000);

/** A valid HS256 token for `sub`. extra fields override defaults; set a field to undefined to drop it. */
export function makeToken(sub, secret, extra = {}) {
  const payload = { sub, iat: nowSec(), exp: nowSec() + 3600, ...extra };
  for (const k of Object.keys(payload)) if (payload[k] === undefined) delete payload[k];
  return signJwt(payload, secret);
}

export function decodeJwtPart(token, i) {
  return JSON.parse(Buffer.from(token.split('.')[i], 'base64url').toString('utf8'));
}

/** Runs `polaris token --user U [--ttl S] --data-dir D`; resolves the printed token (trimmed). */
export function polarisToken({ user, ttl, dataDir, secret, env } = {}) {
  const args = ['token', '--user', user];
  if (ttl !== undefined) args.push('--ttl', String(ttl));
  if (dataDir) args.push('--data-dir', dataDir);
  const e = serverEnv({ POLARIS_JWT_SECRET: secret ?? undefined, ...(env || {}) });
  return new Promise((resolve, reject) => {
    execFile(POLARIS_BIN, args, { env: e, timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`polaris ${args.join(' ')} failed: ${err.message}\nstderr: ${stderr}`));
      resolve(String(stdout).trim());
    });
  });
}

// ---------------------------------------------------------------- HTTP

/**
 * JSON request with fetch. Returns {status, headers, text, json}; json is undefined when the
 * body is not JSON. opts: token, body (object -> JSON), raw (string|Buffer sent verbatim),
 * headers, auth (full Authorization value, overrides token).
 */
export async function request(server, method, urlPath, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (opts.auth !== undefined) headers.authorization = opts.auth;
  else if (opts.token) headers.authorization = `Bearer ${opts.token}`;
  let body;
  if (opts.raw !== undefined) {
    body = opts.raw;
    headers['content-type'] ??= 'application/json';
  } else if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(server.url + urlPath, {
    method, headers, body, signal: AbortSignal.timeout(opts.timeout ?? 15_000),
  });
  const buf = Buffer.from(await res.arrayBuffer());
  const text = buf.toString('utf8');
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json, buf };
}

/** Small client bound to one server and (optionally) one token. */
export function client(server, token) {
  const c = (method, p, opts = {}) => request(server, method, p, { token, ...opts });
  return {
    token,
    req: c,
    get: (p, o) => c('GET', p, o),
    post: (p, body, o) => c('POST', p, { body, ...o }),
    put: (p, body, o) => c('PUT', p, { body, ...o }),
    patch: (p, body, o) => c('PATCH', p, { body, ...o }),
    del: (p, o) => c('DELETE', p, o),
  };
}

export function describeRes(res) {
  return `HTTP ${res.status} ${res.text.length > 600 ? res.text.slice(0, 600) + '…' : res.text}`;
}

/** Asserts a status and, for errors, the `{"error": "<non-empty string>"}` shape. */
export function expectStatus(res, status, what = '') {
  const ok = Array.isArray(status) ? status.includes(res.status) : res.status === status;
  assert.ok(ok, `${what ? what + ': ' : ''}expected HTTP ${JSON.stringify(status)}, got ${describeRes(res)}`);
  if (res.status >= 400) expectErrorBody(res, what);
  return res.json;
}

export function expectErrorBody(res, what = '') {
  assert.ok(res.json !== undefined && res.json !== null && typeof res.json === 'object' && !Array.isArray(res.json),
    `${what ? what + ': ' : ''}error body must be a JSON object, got ${describeRes(res)}`);
  assert.equal(typeof res.json.error, 'string', `${what}: error body needs a string "error", got ${describeRes(res)}`);
  assert.ok(res.json.error.trim().length > 0, `${what}: "error" must be a non-empty sentence, got ${describeRes(res)}`);
  const ct = res.headers.get('content-type') || '';
  assert.match(ct, /application\/json/i, `${what}: error content-type should be JSON, got "${ct}"`);
}

export function expectOk(res, what = '') {
  return expectStatus(res, 200, what);
}

export function expectSuccess(res, what = '') {
  expectStatus(res, 200, what);
  assert.deepEqual(res.json, { success: true }, `${what}: expected {"success":true}, got ${describeRes(res)}`);
}

export async function expectHealthy(server, what = '') {
  assert.ok(server.alive(), `${what}: server process died (exit ${server.proc.exitCode}, signal ${server.proc.signalCode})\nstderr tail: ${server.stderr.slice(-2000)}`);
  const res = await request(server, 'GET', '/healthz');
  assert.equal(res.status, 200, `${what}: /healthz after the hostile request: ${describeRes(res)}`);
  assert.deepEqual(res.json, { ok: true });
}

// ---------------------------------------------------------------- ids

export const ID_BODY = 'abcdefghijklmnopqrstuvwxyz234567';
/** A well-formed id of `tag` that does not exist (same shape as server ids). */
export function fakeId(tag, like) {
  const len = like ? like.length - tag.length - 1 : 26;
  let s = '';
  const bytes = crypto.randomBytes(len);
  for (const b of bytes) s += ID_BODY[b & 31];
  return `${tag}_${s}`;
}
/** Same body as `id`, other table's tag. */
export function retag(id, tag) {
  return `${tag}_${id.slice(id.indexOf('_') + 1)}`;
}

export function expectId(id, tag, what = '') {
  assert.equal(typeof id, 'string', `${what}: id must be a string, got ${JSON.stringify(id)}`);
  assert.ok(id.startsWith(`${tag}_`), `${what}: id should start with "${tag}_", got ${id}`);
  assert.match(id, /^[A-Za-z0-9_-]+$/, `${what}: id must be URL-safe, got ${id}`);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- raw sockets

/** Opens a socket to the server. */
export function connect(server) {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host: '127.0.0.1', port: server.port }, () => resolve(s));
    s.once('error', reject);
  });
}

/**
 * Sends `data` on a fresh socket and collects everything until the server closes, `until(buf)`
 * returns true, or timeout. Resolves {data: string, buf, closed, timedOut, error}.
 */
export function rawExchange(server, data, { timeout = 5000, until, chunks, stopWritingOnData = false } = {}) {
  return new Promise((resolve) => {
    const parts = [];
    let done = false;
    let closed = false;
    let error;
    const s = net.connect({ host: '127.0.0.1', port: server.port });
    const finish = (timedOut) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      const buf = Buffer.concat(parts);
      resolve({ buf, data: buf.toString('latin1'), closed, timedOut, error });
    };
    const timer = setTimeout(() => finish(true), timeout);
    s.on('connect', async () => {
      const list = chunks || [data];
      for (const c of list) {
        if (done || s.destroyed || (stopWritingOnData && parts.length)) break;
        if (typeof c === 'number') { await sleep(c); continue; }
        if (!s.write(c)) await new Promise((r) => { s.once('drain', r); s.once('close', r); });
      }
    });
    s.on('data', (d) => {
      parts.push(d);
      if (until && until(Buffer.concat(parts).toString('latin1'))) finish(false);
    });
    s.on('error', (e) => { error = e; });
    s.on('close', () => { closed = true; finish(false); });
  });
}

/**
 * Parses as many HTTP/1.x responses as are complete in `text` (Content-Length or chunked bodies).
 */
export function parseResponses(text) {
  const out = [];
  let rest = text;
  while (rest.length) {
    const he = rest.indexOf('\r\n\r\n');
    if (he < 0) break;
    const head = rest.slice(0, he).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
    if (!m) break;
    const headers = {};
    for (const line of head.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let pos = he + 4;
    let body = '';
    if (headers['transfer-encoding'] && /chunked/i.test(headers['transfer-encoding'])) {
      let complete = false;
      while (true) {
        const le = rest.indexOf('\r\n', pos);
        if (le < 0) break;
        const size = parseInt(rest.slice(pos, le), 16);
        if (Number.isNaN(size)) break;
        if (size === 0) {
          const te = rest.indexOf('\r\n\r\n', le);
          if (te < 0) break;
          pos = te + 4; complete = true; break;
        }
        if (rest.length < le + 2 + size + 2) break;
        body += rest.slice(le + 2, le + 2 + size);
        pos = le + 2 + size + 2;
      }
      if (!complete) { out.push({ status: Number(m[1]), headers, body, incomplete: true }); break; }
    } else {
      const len = Number(headers['content-length'] || 0);
      if (rest.length < pos + len) { out.push({ status: Number(m[1]), headers, body: rest.slice(pos), incomplete: true }); break; }
      body = rest.slice(pos, pos + len);
      pos += len;
    }
    out.push({ status: Number(m[1]), headers, body });
    rest = rest.slice(pos);
  }
  return out;
}

/** Count of complete responses in `text`. */
export function countComplete(text) {
  return parseResponses(text).filter((r) => !r.incomplete).length;
}

/** Common per-file fixture: one server, a secret, token factory. */
export function useServer(opts = {}) {
  const ctx = { server: null };
  let resolveReady;
  let rejectReady;
  ctx.ready = new Promise((res, rej) => { resolveReady = res; rejectReady = rej; });
  ctx.ready.catch(() => {});
  before(async () => {
    try { ctx.server = await startServer(opts); resolveReady(ctx.server); } catch (e) { rejectReady(e); throw e; }
  });
  after(async () => { if (ctx.server) await ctx.server.stop(); });
  ctx.token = (sub, extra) => makeToken(sub, ctx.server.secret, extra);
  ctx.client = (sub, extra) => client(ctx.server, makeToken(sub, ctx.server.secret, extra));
  ctx.anon = () => client(ctx.server, undefined);
  return ctx;
}

let userCounter = 0;
/** A fresh unique user id, so tests in one file never share data. */
export function newUser(label = 'user') {
  userCounter += 1;
  return `${label}_${process.pid}_${userCounter}_${crypto.randomBytes(4).toString('hex')}`;
}

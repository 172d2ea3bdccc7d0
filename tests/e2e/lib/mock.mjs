// Helpers for the Messages API end-to-end tests: start/stop `polaris mock-llm` instances,
// script them, point a server at them, and poll message documents. Node built-ins only.
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import {
  POLARIS_BIN, startServer, makeToken, client, expectOk, describeRes, newUser, sleep,
} from './server.mjs';

const MOCK_START_TIMEOUT_MS = 10_000;

/** Starts `polaris mock-llm --port 0`; resolves a handle once it prints its address. */
export async function startMock(label = 'mock') {
  assert.ok(fs.existsSync(POLARIS_BIN), `polaris binary not found at ${POLARIS_BIN}`);
  const proc = spawn(POLARIS_BIN, ['mock-llm', '--host', '127.0.0.1', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr += d; if (stderr.length > 100_000) stderr = stderr.slice(-50_000); });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error(`${label}: mock-llm did not start: ${stderr}`)); },
      MOCK_START_TIMEOUT_MS);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/mock-llm listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1].replace(/\/+$/, '')); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${label}: mock-llm exited (${code}): ${stderr}`)); });
  });

  const call = async (method, p, body) => {
    const res = await fetch(base + p, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    assert.equal(res.status, 200, `${label} ${method} ${p}: HTTP ${res.status} ${text}`);
    return text ? JSON.parse(text) : undefined;
  };

  const mock = {
    label, proc, base, exited,
    /** Base URL to give the server (…/v1). */
    v1: `${base}/v1`,
    get stderr() { return stderr; },
    /** Queues steps; replaces the queue (and clears requests/stats) unless reset:false. */
    async script(steps, { reset = true } = {}) {
      const r = await call('POST', '/_mock/script', { reset, steps });
      assert.equal(r.ok, true, `${label}: script refused: ${JSON.stringify(r)}`);
    },
    async reset() { await call('POST', '/_mock/reset'); },
    /** [{body, authorization}] of every chat request since the last reset. */
    requests: () => call('GET', '/_mock/requests'),
    /** Only the requests made by message runs (title requests left out). */
    async runRequests() { return (await mock.requests()).filter((r) => !isTitleRequest(r)); },
    stats: () => call('GET', '/_mock/stats'),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
  return mock;
}

/** A background title request (it carries the title system prompt). */
export function isTitleRequest(r) {
  const msgs = r?.body?.messages;
  return Array.isArray(msgs) && msgs.some((m) => m.role === 'system' && typeof m.content === 'string'
    && /short, descriptive title/i.test(m.content));
}

/** Environment pointing the server at a primary (OpenRouter) and optional secondary (Cerebras). */
export function providerEnv(primary, secondary, { primaryModel, secondaryModel } = {}) {
  const env = {
    OPENROUTER_API_KEY: undefined, OPENROUTER_BASE_URL: undefined, OPENROUTER_MODEL: primaryModel,
    CEREBRAS_API_KEY: undefined, CEREBRAS_BASE_URL: undefined, CEREBRAS_MODEL: secondaryModel,
  };
  if (primary) Object.assign(env, { OPENROUTER_API_KEY: 'k1', OPENROUTER_BASE_URL: primary.v1 });
  if (secondary) Object.assign(env, { CEREBRAS_API_KEY: 'k2', CEREBRAS_BASE_URL: secondary.v1 });
  return env;
}

/**
 * Per-file fixture: `mocks` mock providers (0, 1 or 2), then one server pointed at them.
 * opts.env extra server env; opts.args extra CLI args; opts.primaryModel / secondaryModel.
 */
export function useMockedServer(opts = {}) {
  const n = opts.mocks ?? 1;
  const ctx = { server: null, primary: null, secondary: null };
  before(async () => {
    if (n >= 1) ctx.primary = await startMock('primary');
    if (n >= 2) ctx.secondary = await startMock('secondary');
    ctx.env = {
      ...providerEnv(ctx.primary, ctx.secondary, opts),
      ...(opts.env || {}),
    };
    ctx.server = await startServer({ env: ctx.env, args: opts.args });
  });
  after(async () => {
    try {
      if (ctx.server) await ctx.server.stop();
    } finally {
      if (ctx.primary) await ctx.primary.stop();
      if (ctx.secondary) await ctx.secondary.stop();
    }
  });
  ctx.token = (sub, extra) => makeToken(sub, ctx.server.secret, extra);
  ctx.client = (sub = newUser(), extra) => client(ctx.server, makeToken(sub, ctx.server.secret, extra));
  /** Resets every mock (queue, requests, stats). */
  ctx.resetMocks = async () => {
    if (ctx.primary) await ctx.primary.reset();
    if (ctx.secondary) await ctx.secondary.reset();
  };
  return ctx;
}

// ---------------------------------------------------------------- API helpers

/** Creates a project and a titled conversation (no background title request). */
export async function newChat(c, { title = 'Test chat', projectId } = {}) {
  if (!projectId) projectId = expectOk(await c.post('/api/projects', { name: 'msgs' }), 'create project').projectId;
  const body = title === null ? { projectId } : { projectId, title };
  const conversationId = expectOk(await c.post('/api/conversations', body), 'create conversation').conversationId;
  return { projectId, conversationId };
}

/** POST /api/messages, asserting 200; returns {success, runId, messageId}. */
export async function postMessage(c, conversationId, message = 'Hello there', opts = {}) {
  const res = await c.post('/api/messages', { conversationId, message }, opts);
  const body = expectOk(res, 'POST /api/messages');
  return body;
}

export async function getMessages(c, conversationId) {
  const res = await c.get(`/api/conversations/${conversationId}/messages`);
  const list = expectOk(res, 'GET messages');
  assert.ok(Array.isArray(list), `messages must be an array, got ${describeRes(res)}`);
  return list;
}

export async function getMessage(c, conversationId, messageId) {
  const list = await getMessages(c, conversationId);
  const m = list.find((x) => x._id === messageId);
  assert.ok(m, `message ${messageId} not in conversation ${conversationId}: ${JSON.stringify(list).slice(0, 800)}`);
  return m;
}

/** Polls `fn` until it returns a truthy value; throws with `what` (and the last value) on timeout. */
export async function waitFor(fn, { timeout = 15_000, interval = 50, what = 'condition' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await sleep(interval);
  }
}

/** Polls the message until it is no longer `processing`; returns its document. */
export async function waitFinal(c, conversationId, messageId, timeout = 20_000) {
  let last;
  try {
    return await waitFor(async () => {
      last = await getMessage(c, conversationId, messageId);
      return last.status !== 'processing' ? last : null;
    }, { timeout, interval: 50, what: `message ${messageId} to leave "processing"` });
  } catch (e) {
    e.message += `\nlast document: ${JSON.stringify(last).slice(0, 1500)}`;
    throw e;
  }
}

/** Waits until the message reaches `status` (and fails fast if it ends in another final state). */
export async function waitStatus(c, conversationId, messageId, status, timeout = 20_000) {
  const m = await waitFinal(c, conversationId, messageId, timeout);
  assert.equal(m.status, status, `message should end "${status}", got ${JSON.stringify(m).slice(0, 1500)}`);
  return m;
}

/** n words "w0 w1 …", handy as slow streamed text. */
export function words(n, prefix = 'w') {
  return Array.from({ length: n }, (_, i) => `${prefix}${i}`).join(' ');
}

export async function metricsText(server) {
  const res = await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  assert.equal(res.status, 200, 'GET /metrics');
  return { text: await res.text(), contentType: res.headers.get('content-type') || '' };
}

/** Value of one Prometheus sample (exact series text, e.g. 'x_total{provider="a"}'), or undefined. */
export function metricValue(text, series) {
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    if (i > 0 && line.slice(0, i) === series) return Number(line.slice(i + 1));
  }
  return undefined;
}

/** Sum of all samples of a metric name (any labels). */
export function metricSum(text, name) {
  let sum = 0;
  let found = false;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m && m[1] === name) { sum += Number(m[3]); found = true; }
  }
  return found ? sum : undefined;
}

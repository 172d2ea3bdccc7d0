// Messages API: POST /api/messages (shape, validation, 404/401/409, concurrency, idempotency),
// streaming growth seen by polling, completion fields, GET /api/runs/:id, GET /metrics.
// One server pointed at one scripted mock provider (polaris mock-llm).
import { describe, test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  expectStatus, expectOk, expectId, fakeId, retag, newUser, describeRes, request,
} from './lib/server.mjs';
import {
  useMockedServer, newChat, postMessage, getMessages, getMessage, waitFor, waitFinal, waitStatus,
  words, metricsText, metricValue, metricSum,
} from './lib/mock.mjs';

// 100 concurrent POSTs of one user below test the 409 rule, not the per-user cap on requests
// in flight (64): on a slower store (PostgreSQL) more of them overlap.
const ctx = useMockedServer({ mocks: 1, env: { POLARIS_MAX_REQUESTS_PER_USER: '128' } });
beforeEach(async () => { await ctx.resetMocks(); });

const DEFAULT_MODEL = 'moonshotai/kimi-k2.5';

describe('POST /api/messages: success', () => {
  test('answers {success, runId, messageId} at once; user + processing assistant message', async () => {
    const c = ctx.client();
    const { projectId, conversationId } = await newChat(c);
    // The provider withholds its headers for a while: the POST must not wait for it.
    await ctx.primary.script([{ type: 'text', text: 'Hello from the model.', firstByteDelayMs: 2500 }]);
    const t0 = Date.now();
    const res = await c.post('/api/messages', { conversationId, message: 'Create a React component for a todo list' });
    const elapsed = Date.now() - t0;
    const body = expectOk(res, 'POST /api/messages');
    assert.deepEqual(Object.keys(body).sort(), ['messageId', 'runId', 'success'], describeRes(res));
    assert.equal(body.success, true);
    expectId(body.runId, 'run', 'runId');
    expectId(body.messageId, 'msg', 'messageId');
    assert.ok(elapsed < 2000, `POST must answer before the provider does (took ${elapsed} ms)`);

    const list = await getMessages(c, conversationId);
    assert.equal(list.length, 2, JSON.stringify(list));
    const [user, asst] = list;
    assert.equal(user.role, 'user');
    assert.equal(user.content, 'Create a React component for a todo list');
    assert.equal(user.conversationId, conversationId);
    assert.equal(user.projectId, projectId);
    assert.equal('status' in user, false, `user messages have no status: ${JSON.stringify(user)}`);
    expectId(user._id, 'msg', 'user message id');
    assert.equal(typeof user._creationTime, 'number');

    assert.equal(asst._id, body.messageId);
    assert.equal(asst.role, 'assistant');
    assert.equal(asst.status, 'processing');
    assert.equal(asst.content, '');
    assert.equal(asst.triggerRunId, body.runId);
    assert.equal(asst.conversationId, conversationId);
    assert.equal(asst.projectId, projectId);
    assert.ok(asst._creationTime >= user._creationTime, 'oldest first');

    const done = await waitStatus(c, conversationId, body.messageId, 'completed');
    assert.equal(done.content, 'Hello from the model.');
    assert.equal(done.triggerRunId, body.runId);
  });

  test('completed message carries model (default kimi) and usage from the provider', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'text', text: 'Counted answer', usage: { prompt: 11, completion: 22 } }]);
    const { messageId } = await postMessage(c, conversationId, 'count my tokens');
    const m = await waitStatus(c, conversationId, messageId, 'completed');
    assert.equal(m.content, 'Counted answer');
    assert.equal(m.model, DEFAULT_MODEL);
    assert.deepEqual(m.usage, { promptTokens: 11, completionTokens: 22 });
    assert.equal(m.error, undefined, 'no error on a completed message');
  });

  test('the provider request: model, stream, tools, bearer key, the user message, no rejected params', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    const { messageId } = await postMessage(c, conversationId, 'What is in my project?');
    await waitStatus(c, conversationId, messageId, 'completed');
    const reqs = await ctx.primary.runRequests();
    assert.equal(reqs.length, 1, JSON.stringify(reqs).slice(0, 2000));
    const { body, authorization } = reqs[0];
    assert.equal(authorization, 'Bearer k1');
    assert.equal(body.model, DEFAULT_MODEL);
    assert.equal(body.stream, true);
    assert.ok(Array.isArray(body.tools) && body.tools.length >= 8, 'tools offered');
    const names = body.tools.map((t) => t.function?.name).sort();
    for (const n of ['write_file', 'read_file', 'list_files', 'delete_file', 'rename_file', 'create_folder',
      'search_files', 'get_project_structure']) {
      assert.ok(names.includes(n), `tool ${n} offered, got ${names}`);
    }
    for (const t of body.tools) assert.equal(t.type, 'function');
    for (const p of ['parallel_tool_calls', 'frequency_penalty', 'presence_penalty', 'logit_bias', 'service_tier']) {
      assert.equal(p in body, false, `must not send ${p}`);
    }
    const users = body.messages.filter((m) => m.role === 'user');
    assert.equal(users.at(-1).content, 'What is in my project?');
  });

  test('content grows while processing, then completes', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    const text = words(40);
    await ctx.primary.script([{ type: 'text', text, chunks: 20, delayMs: 100 }]);
    const { messageId } = await postMessage(c, conversationId, 'stream please');
    const seen = new Set();
    let final;
    await waitFor(async () => {
      const m = await getMessage(c, conversationId, messageId);
      if (m.status === 'processing') {
        assert.ok(text.startsWith(m.content), `partial content must be a prefix of the answer, got ${JSON.stringify(m.content)}`);
        if (m.content) seen.add(m.content);
        return false;
      }
      final = m;
      return true;
    }, { timeout: 20_000, interval: 40, what: 'stream to finish' });
    assert.equal(final.status, 'completed');
    assert.equal(final.content, text);
    assert.ok(seen.size >= 3, `expected several distinct partial contents while processing, saw ${seen.size}: ${[...seen].join(' | ')}`);
    const lens = [...seen].map((s) => s.length);
    assert.deepEqual(lens, [...lens].sort((a, b) => a - b), 'content only grows');
  });

  test('a follow-up message after completion is accepted and sends the history', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'text', text: 'First answer.' }, { type: 'text', text: 'Second answer.' }]);
    const a = await postMessage(c, conversationId, 'first question');
    await waitStatus(c, conversationId, a.messageId, 'completed');
    const b = await postMessage(c, conversationId, 'second question');
    assert.notEqual(b.messageId, a.messageId);
    assert.notEqual(b.runId, a.runId);
    const m = await waitStatus(c, conversationId, b.messageId, 'completed');
    assert.equal(m.content, 'Second answer.');
    const reqs = await ctx.primary.runRequests();
    assert.equal(reqs.length, 2);
    const msgs = reqs[1].body.messages;
    const texts = msgs.map((x) => `${x.role}:${typeof x.content === 'string' ? x.content : JSON.stringify(x.content)}`);
    const iq1 = texts.indexOf('user:first question');
    const ia1 = texts.indexOf('assistant:First answer.');
    const iq2 = texts.indexOf('user:second question');
    assert.ok(iq1 >= 0 && ia1 > iq1 && iq2 > ia1, `history in order expected, got ${JSON.stringify(texts)}`);
    assert.equal((await getMessages(c, conversationId)).length, 4);
  });

  test('a message of 100,000 emoji (code points) is accepted', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'text', text: 'ok' }]);
    const message = '😀'.repeat(100_000);
    const { messageId } = await postMessage(c, conversationId, message);
    const list = await getMessages(c, conversationId);
    assert.equal(list[0].content, message);
    await waitFinal(c, conversationId, messageId);
  });
});

describe('POST /api/messages: errors', () => {
  const bad = [
    ['not JSON', '{"conversationId":'],
    ['empty body', ''],
    ['array body', '[]'],
    ['string body', '"hi"'],
    ['missing message', (cid) => JSON.stringify({ conversationId: cid })],
    ['missing conversationId', JSON.stringify({ message: 'hi' })],
    ['message: number', (cid) => JSON.stringify({ conversationId: cid, message: 5 })],
    ['message: null', (cid) => JSON.stringify({ conversationId: cid, message: null })],
    ['message: array', (cid) => JSON.stringify({ conversationId: cid, message: ['hi'] })],
    ['conversationId: number', JSON.stringify({ conversationId: 5, message: 'hi' })],
    ['conversationId: object', JSON.stringify({ conversationId: {}, message: 'hi' })],
    ['empty message', (cid) => JSON.stringify({ conversationId: cid, message: '' })],
    ['spaces only', (cid) => JSON.stringify({ conversationId: cid, message: '   \t\r\n ' })],
    ['Unicode white space only', (cid) => JSON.stringify({ conversationId: cid, message: '\u00a0\u2003\u3000\u2028\u205f\u1680\u2009' })],
    ['100,001 emoji', (cid) => JSON.stringify({ conversationId: cid, message: '😀'.repeat(100_001) })],
    ['100,001 ASCII', (cid) => JSON.stringify({ conversationId: cid, message: 'a'.repeat(100_001) })],
    ['conversationId not an id', JSON.stringify({ conversationId: 'abc', message: 'hi' })],
    ['conversationId with a slash', JSON.stringify({ conversationId: 'cnv_../../x', message: 'hi' })],
    ['conversationId of another table', (cid) => JSON.stringify({ conversationId: retag(cid, 'prj'), message: 'hi' })],
    ['conversationId empty', JSON.stringify({ conversationId: '', message: 'hi' })],
  ];
  for (const [what, raw] of bad) {
    test(`400 for ${what}; no message is created`, async () => {
      const c = ctx.client();
      const { conversationId } = await newChat(c);
      const body = typeof raw === 'function' ? raw(conversationId) : raw;
      expectStatus(await c.req('POST', '/api/messages', { raw: body }), 400, `POST ${what}`);
      assert.deepEqual(await getMessages(c, conversationId), []);
      assert.equal((await ctx.primary.requests()).length, 0, 'provider not contacted');
    });
  }

  test('100,000 ASCII characters is still accepted (boundary)', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    const { messageId } = await postMessage(c, conversationId, 'a'.repeat(100_000));
    await waitFinal(c, conversationId, messageId);
  });

  test('401 without or with a bad token, even when the body is bad too', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    for (const auth of [undefined, 'Bearer nope', 'Bearer ' + ctx.token('u', { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })]) {
      for (const raw of ['{bad json', JSON.stringify({ conversationId, message: 'hi' })]) {
        const res = await request(ctx.server, 'POST', '/api/messages', { raw, ...(auth ? { auth } : {}) });
        expectStatus(res, 401, `POST with auth ${auth}`);
      }
    }
    assert.deepEqual(await getMessages(c, conversationId), []);
  });

  test('404 "Conversation not found" for an unknown id and for another user\'s conversation', async () => {
    const owner = ctx.client();
    const other = ctx.client();
    const { conversationId } = await newChat(owner);
    for (const [who, cid] of [['unknown', fakeId('cnv', conversationId)], ['not yours', conversationId]]) {
      const res = await other.post('/api/messages', { conversationId: cid, message: 'hi' });
      expectStatus(res, 404, who);
      assert.equal(res.json.error, 'Conversation not found', who);
    }
    assert.deepEqual(await getMessages(owner, conversationId), []);
  });
});

describe('one run per project (409)', () => {
  test('409 with the processing messageId in the same conversation and in another conversation of the project', async () => {
    const c = ctx.client();
    const { projectId, conversationId } = await newChat(c);
    const second = (await newChat(c, { projectId, title: 'Second chat' })).conversationId;
    const otherProject = (await newChat(c)).conversationId;
    await ctx.primary.script([{ type: 'text', text: words(30), chunks: 15, delayMs: 100 }]);
    const first = await postMessage(c, conversationId, 'slow one');
    await waitFor(async () => (await ctx.primary.requests()).length >= 1, { what: 'run to reach the provider' });

    for (const [what, cid] of [['same conversation', conversationId], ['other conversation, same project', second]]) {
      const res = await c.post('/api/messages', { conversationId: cid, message: 'again' });
      expectStatus(res, 409, what);
      assert.equal(res.json.error, 'A message is already being processed', what);
      assert.equal(res.json.messageId, first.messageId, what);
    }
    // Another project is independent.
    const other = await postMessage(c, otherProject, 'elsewhere');
    await waitStatus(c, otherProject, other.messageId, 'completed');

    assert.equal((await getMessages(c, second)).length, 0, 'nothing created by the refused POST');
    assert.equal((await getMessages(c, conversationId)).length, 2, 'nothing created by the refused POST');
    await waitStatus(c, conversationId, first.messageId, 'completed');
    // Once completed, the project takes messages again.
    const next = await postMessage(c, second, 'now it is free');
    await waitStatus(c, second, next.messageId, 'completed');
  });

  test('100 concurrent POSTs into an idle project: exactly one 200, 99 × 409', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'text', text: words(10), chunks: 5, delayMs: 100 }]);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      c.post('/api/messages', { conversationId, message: `concurrent ${i}` }, { timeout: 30_000 })));
    const ok = results.filter((r) => r.status === 200);
    const conflict = results.filter((r) => r.status === 409);
    assert.equal(ok.length, 1, `exactly one winner; statuses: ${JSON.stringify(results.map((r) => r.status))}`);
    assert.equal(conflict.length, 99, `the rest 409; statuses: ${JSON.stringify(results.map((r) => r.status))}`);
    const winner = ok[0].json.messageId;
    for (const r of conflict) {
      assert.equal(r.json.error, 'A message is already being processed');
      assert.equal(r.json.messageId, winner);
    }
    const list = await getMessages(c, conversationId);
    assert.equal(list.length, 2, `one user + one assistant message, got ${list.length}`);
    await waitStatus(c, conversationId, winner, 'completed');
    assert.equal((await ctx.primary.runRequests()).length, 1, 'one provider request');
  });
});

describe('Idempotency-Key', () => {
  test('a retried POST with the same key returns the same ids and creates nothing new', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'text', text: words(20), chunks: 10, delayMs: 100 }]);
    const headers = { 'Idempotency-Key': `key-${newUser()}` };
    const a = await postMessage(c, conversationId, 'do it once', { headers });
    const b = expectOk(await c.post('/api/messages', { conversationId, message: 'do it once' }, { headers }), 'retry while processing');
    assert.equal(b.runId, a.runId);
    assert.equal(b.messageId, a.messageId);
    assert.equal((await getMessages(c, conversationId)).length, 2);
    // Without the key the project is busy.
    expectStatus(await c.post('/api/messages', { conversationId, message: 'do it once' }), 409, 'no key');
    await waitStatus(c, conversationId, a.messageId, 'completed');
    const d = expectOk(await c.post('/api/messages', { conversationId, message: 'do it once' }, { headers }), 'retry after completion');
    assert.equal(d.runId, a.runId);
    assert.equal(d.messageId, a.messageId);
    assert.equal((await getMessages(c, conversationId)).length, 2, 'no duplicate messages');
    assert.equal((await ctx.primary.runRequests()).length, 1, 'one run only');
  });

  test('concurrent POSTs with one key all get the same ids', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    const headers = { 'Idempotency-Key': `key-${newUser()}` };
    const results = await Promise.all(Array.from({ length: 10 }, () =>
      c.post('/api/messages', { conversationId, message: 'same' }, { headers })));
    for (const r of results) expectOk(r, 'same key');
    assert.equal(new Set(results.map((r) => r.json.messageId)).size, 1);
    assert.equal(new Set(results.map((r) => r.json.runId)).size, 1);
    await waitFinal(c, conversationId, results[0].json.messageId);
    assert.equal((await getMessages(c, conversationId)).length, 2);
  });

  test('a key is per user: another user reusing it gets their own message (or 404), never the first one', async () => {
    const a = ctx.client();
    const b = ctx.client();
    const chatA = await newChat(a);
    const chatB = await newChat(b);
    const headers = { 'Idempotency-Key': `shared-${newUser()}` };
    const ra = await postMessage(a, chatA.conversationId, 'mine', { headers });
    await waitFinal(a, chatA.conversationId, ra.messageId);
    const rb = await b.post('/api/messages', { conversationId: chatB.conversationId, message: 'mine too' }, { headers });
    expectOk(rb, 'other user, same key');
    assert.notEqual(rb.json.messageId, ra.messageId, 'must not leak another user\'s message');
    assert.equal((await getMessages(b, chatB.conversationId)).length, 2);
    await waitFinal(b, chatB.conversationId, rb.json.messageId);
  });
});

describe('GET /api/runs/:runId', () => {
  test('owner sees status/attempt/provider/model; others 404; malformed 400', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    const { runId, messageId } = await postMessage(c, conversationId, 'run info');
    await waitStatus(c, conversationId, messageId, 'completed');
    const run = await waitFor(async () => {
      const r = expectOk(await c.get(`/api/runs/${runId}`), 'GET run');
      return r.status === 'completed' ? r : null;
    }, { timeout: 10_000, what: 'run status completed' });
    assert.equal(run._id ?? runId, runId);
    assert.equal(typeof run.attempt, 'number');
    assert.ok(run.attempt >= 1);
    assert.equal(run.provider, 'openrouter');
    assert.equal(run.model, DEFAULT_MODEL);
    if ('messageId' in run) assert.equal(run.messageId, messageId);

    const other = ctx.client();
    const res404 = await other.get(`/api/runs/${runId}`);
    expectStatus(res404, 404, 'other user');
    expectStatus(await c.get(`/api/runs/${fakeId('run', runId)}`), 404, 'unknown run');
    for (const bad of ['abc', retag(runId, 'msg'), 'run_!!!']) {
      expectStatus(await c.get(`/api/runs/${encodeURIComponent(bad)}`), 400, `malformed ${bad}`);
    }
    expectStatus(await request(ctx.server, 'GET', `/api/runs/${runId}`), 401, 'no token');
  });
});

describe('GET /metrics', () => {
  test('Prometheus text without auth, with the run and provider series', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    const { messageId } = await postMessage(c, conversationId, 'for the metrics');
    await waitStatus(c, conversationId, messageId, 'completed');
    const { text, contentType } = await metricsText(ctx.server);
    assert.match(contentType, /text\/plain/);
    for (const name of ['polaris_runs_finished_total', 'polaris_time_to_first_token_seconds_count',
      'polaris_run_duration_seconds_count']) {
      assert.ok((metricSum(text, name) ?? 0) >= 1, `${name} >= 1 in:\n${text}`);
    }
    const req = metricValue(text, 'polaris_provider_requests_total{provider="openrouter"}');
    assert.ok(req >= 1, `polaris_provider_requests_total{provider="openrouter"} >= 1 in:\n${text}`);
    assert.match(text, /^# TYPE polaris_runs_finished_total counter$/m);
  });
});

// DELETE /api/messages: cancelling a processing message stops the provider stream, keeps what
// was streamed, freezes the message, frees the project; the error cases (409/404/400/401).
import { describe, test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, expectSuccess, fakeId, retag, request, sleep } from './lib/server.mjs';
import {
  useMockedServer, newChat, postMessage, getMessage, getMessages, waitFor, waitFinal, waitStatus, words,
  metricsText, metricValue,
} from './lib/mock.mjs';

const ctx = useMockedServer({ mocks: 1 });
beforeEach(async () => { await ctx.resetMocks(); });

const cancel = (c, messageId) => c.req('DELETE', '/api/messages', { body: { messageId } });
const CANCELLED_TEXT = 'Message was cancelled.';

/** Starts a slow streamed answer and waits until the provider has been asked. */
async function startSlow(c, { text = words(60), chunks = 30, delayMs = 100, before = [] } = {}) {
  const chat = await newChat(c);
  await ctx.primary.script([...before, { type: 'text', text, chunks, delayMs }]);
  const posted = await postMessage(c, chat.conversationId, 'slow please');
  await waitFor(async () => (await ctx.primary.runRequests()).length >= before.length + 1,
    { timeout: 10_000, what: 'the slow step to reach the provider' });
  return { ...chat, ...posted, text };
}

/** Waits until the server executes no run (/metrics): the cancelled run's coroutine is over. */
async function waitNoRunExecuting() {
  await waitFor(async () =>
    metricValue((await metricsText(ctx.server)).text, 'polaris_runs{status="executing"}') === 0,
  { timeout: 10_000, what: 'the server to execute no run' });
}

/**
 * Asserts that the message no longer changes. First waits for the run to be over on the
 * server (an observable event), so a slow machine cannot pass this by looking before a late
 * write; then polls for `ms` as well.
 */
async function assertFrozen(c, conversationId, messageId, ms = 1000) {
  await waitNoRunExecuting();
  const first = await getMessage(c, conversationId, messageId);
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    await sleep(100);
    const now = await getMessage(c, conversationId, messageId);
    assert.deepEqual(now, first, 'a cancelled message must not change afterwards');
  }
  return first;
}

describe('cancelling a processing message', () => {
  test('DELETE mid-stream → 200; cancelled; content frozen; provider connection closed; idempotent; project free', async () => {
    const c = ctx.client();
    const s = await startSlow(c);
    // Let part of the answer stream (visible content if the server shows it; else just time).
    await waitFor(async () => (await getMessage(c, s.conversationId, s.messageId)).content.length > 0,
      { timeout: 1500, what: 'partial content' }).catch(() => {});
    expectSuccess(await cancel(c, s.messageId), 'DELETE /api/messages');
    const m = await getMessage(c, s.conversationId, s.messageId);
    assert.equal(m.status, 'cancelled');
    assert.ok(m.content === CANCELLED_TEXT || (m.content.length > 0 && s.text.startsWith(m.content)),
      `content must be the streamed prefix or "${CANCELLED_TEXT}", got ${JSON.stringify(m.content)}`);
    assert.notEqual(m.content, s.text, 'the answer must not have been completed');

    const stats = await waitFor(async () => {
      const st = await ctx.primary.stats();
      return st.disconnects >= 1 ? st : null;
    }, { timeout: 2000, what: 'the provider to see its connection closed' });
    assert.equal(stats.completed, 0, 'the provider stream was not read to the end');

    await assertFrozen(c, s.conversationId, s.messageId, 1000);
    expectSuccess(await cancel(c, s.messageId), 'DELETE again (idempotent)');
    assert.equal((await getMessage(c, s.conversationId, s.messageId)).status, 'cancelled');

    // The run is over too.
    const run = (await c.get(`/api/runs/${s.runId}`)).json;
    assert.ok(run && !['queued', 'executing', 'processing'].includes(run.status), `run not active: ${JSON.stringify(run)}`);

    // The project takes a new message.
    await ctx.primary.script([{ type: 'text', text: 'Fresh answer.' }]);
    const next = await postMessage(c, s.conversationId, 'after cancel');
    const n = await waitStatus(c, s.conversationId, next.messageId, 'completed');
    assert.equal(n.content, 'Fresh answer.');
    assert.equal((await getMessage(c, s.conversationId, s.messageId)).status, 'cancelled', 'old one untouched');
  });

  test('content streamed before the cancel is kept (not replaced by the cancelled sentence)', async () => {
    const c = ctx.client();
    // 20 chunks, one every 100 ms: wait (up to 1.5 s) for streamed text to become visible.
    const s = await startSlow(c, { text: words(40), chunks: 20, delayMs: 100 });
    await waitFor(async () => (await getMessage(c, s.conversationId, s.messageId)).content.length > 0,
      { timeout: 1500, what: 'partial content' }).catch(() => {});
    expectSuccess(await cancel(c, s.messageId), 'DELETE');
    const m = await getMessage(c, s.conversationId, s.messageId);
    assert.equal(m.status, 'cancelled');
    assert.notEqual(m.content, CANCELLED_TEXT, 'text had been streamed; it must be kept');
    assert.ok(m.content.length > 0 && s.text.startsWith(m.content), `a prefix of the answer, got ${JSON.stringify(m.content)}`);
  });

  test('cancel before any text → "Message was cancelled."', async () => {
    const c = ctx.client();
    const chat = await newChat(c);
    await ctx.primary.script([{ type: 'text', text: 'never shown', firstByteDelayMs: 4000 }]);
    const { messageId } = await postMessage(c, chat.conversationId, 'wait for it');
    expectSuccess(await cancel(c, messageId), 'DELETE');
    const m = await getMessage(c, chat.conversationId, messageId);
    assert.equal(m.status, 'cancelled');
    assert.equal(m.content, CANCELLED_TEXT);
    await assertFrozen(c, chat.conversationId, messageId, 1000);
  });

  test('cancel in step 2 keeps step 1 (text and tool call); the file written in step 1 stays', async () => {
    const c = ctx.client();
    const s = await startSlow(c, {
      before: [{ type: 'tool_calls', text: 'Writing.', calls: [{ id: 'w1', name: 'write_file', arguments: { path: 'kept.txt', content: 'kept' } }] }],
    });
    expectSuccess(await cancel(c, s.messageId), 'DELETE');
    const m = await getMessage(c, s.conversationId, s.messageId);
    assert.equal(m.status, 'cancelled');
    assert.ok(m.content.startsWith('Writing.'), `step 1 text kept: ${JSON.stringify(m.content)}`);
    assert.equal(m.toolCalls?.length, 1);
    assert.equal(m.toolCalls[0].result?.success, true);
    const f = await c.get(`/api/projects/${s.projectId}/files/content?path=kept.txt`);
    assert.equal(f.status, 200);
    await assertFrozen(c, s.conversationId, s.messageId, 800);
  });

  test('no further provider request after a cancel (no next step)', async () => {
    const c = ctx.client();
    const s = await startSlow(c, {
      text: words(30), chunks: 10, delayMs: 150,
    });
    expectSuccess(await cancel(c, s.messageId), 'DELETE');
    // The run is over once the server executes none: a next step would have been asked by then.
    await waitNoRunExecuting();
    assert.equal((await ctx.primary.runRequests()).length, 1);
  });
});

describe('deleting the project mid-run', () => {
  test('the run stops (provider connection closed), the server stays healthy, the message is gone', async () => {
    const c = ctx.client();
    const s = await startSlow(c, { text: words(40), chunks: 20, delayMs: 150 });
    expectSuccess(await c.del(`/api/projects/${s.projectId}`), 'DELETE project');
    await waitFor(async () => (await ctx.primary.stats()).disconnects >= 1,
      { timeout: 5000, what: 'the provider connection of the deleted project\'s run to close' });
    expectStatus(await c.get(`/api/conversations/${s.conversationId}/messages`), 404, 'conversation gone');
    const health = await request(ctx.server, 'GET', '/healthz');
    assert.equal(health.status, 200);
    // Other projects still work.
    const chat = await newChat(c);
    await ctx.primary.script([{ type: 'text', text: 'Still alive.' }]);
    const next = await postMessage(c, chat.conversationId, 'hello');
    assert.equal((await waitStatus(c, chat.conversationId, next.messageId, 'completed')).content, 'Still alive.');
  });
});

describe('DELETE /api/messages errors', () => {
  test('completed → 409 {error, status:"completed"}; failed → 409 status "failed"', async () => {
    const c = ctx.client();
    const chat = await newChat(c);
    const done = await postMessage(c, chat.conversationId, 'finish');
    await waitStatus(c, chat.conversationId, done.messageId, 'completed');
    let res = await cancel(c, done.messageId);
    expectStatus(res, 409, 'cancel completed');
    assert.equal(res.json.error, 'Message is not being processed');
    assert.equal(res.json.status, 'completed');
    assert.equal((await getMessage(c, chat.conversationId, done.messageId)).status, 'completed');

    await ctx.primary.script([{ type: 'fault', fault: 'http400' }]);
    const bad = await postMessage(c, chat.conversationId, 'fail');
    await waitStatus(c, chat.conversationId, bad.messageId, 'failed');
    res = await cancel(c, bad.messageId);
    expectStatus(res, 409, 'cancel failed');
    assert.equal(res.json.error, 'Message is not being processed');
    assert.equal(res.json.status, 'failed');
  });

  test('a user message → 409', async () => {
    const c = ctx.client();
    const chat = await newChat(c);
    const { messageId } = await postMessage(c, chat.conversationId, 'mine');
    await waitFinal(c, chat.conversationId, messageId);
    const user = (await getMessages(c, chat.conversationId)).find((x) => x.role === 'user');
    const res = await cancel(c, user._id);
    expectStatus(res, 409, 'cancel user message');
    assert.equal(res.json.error, 'Message is not being processed');
  });

  test('unknown or another user\'s message → 404 (and the other user\'s run goes on)', async () => {
    const owner = ctx.client();
    const other = ctx.client();
    const s = await startSlow(owner, { text: words(20), chunks: 10, delayMs: 100 });
    expectStatus(await cancel(other, s.messageId), 404, 'not yours');
    expectStatus(await cancel(owner, fakeId('msg', s.messageId)), 404, 'unknown');
    const m = await waitStatus(owner, s.conversationId, s.messageId, 'completed');
    assert.equal(m.content, s.text);
  });

  test('malformed bodies and ids → 400; no token → 401', async () => {
    const c = ctx.client();
    const chat = await newChat(c);
    const { messageId } = await postMessage(c, chat.conversationId, 'x');
    await waitFinal(c, chat.conversationId, messageId);
    for (const [what, raw] of [
      ['not JSON', '{"messageId":'],
      ['empty body', ''],
      ['missing messageId', '{}'],
      ['messageId number', '{"messageId":5}'],
      ['messageId null', '{"messageId":null}'],
      ['messageId not an id', '{"messageId":"abc"}'],
      ['messageId of another table', JSON.stringify({ messageId: retag(messageId, 'cnv') })],
      ['array', '[]'],
    ]) {
      expectStatus(await c.req('DELETE', '/api/messages', { raw }), 400, what);
    }
    expectStatus(await request(ctx.server, 'DELETE', '/api/messages', { body: { messageId } }), 401, 'no token');
    expectStatus(await request(ctx.server, 'DELETE', '/api/messages', { raw: '{bad', auth: 'Bearer x.y.z' }), 401, 'bad token, bad body');
  });
});

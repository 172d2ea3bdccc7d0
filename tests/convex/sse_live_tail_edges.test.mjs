// Edges of the SSE live tail on GET /api/conversations/:id/events: a cancel mid-stream ends the
// deltas and the events still rebuild the stored messages exactly; a kill -9 mid-stream and a
// restart on the same data dir resume to the same state a reconnecting client rebuilds (a
// stale Last-Event-ID gets a snapshot); a reader that stops reading holds no one up and, once
// it reads again, gets every event it missed; and watchers never cause store writes: with the
// store throttled, the stored text lags what SSE clients already have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, client, makeToken, newUser, expectSuccess } from '../e2e/lib/server.mjs';
import {
  useMockedServer, startMock, providerEnv, newChat, postMessage, getMessages, waitFor, words,
} from '../e2e/lib/mock.mjs';
import { useSse, openSse, show, rebuildFromEvents as rebuild } from './lib.mjs';

const ctx = useMockedServer({ mocks: 1 });
const sse = useSse(ctx);

const docOf = (events, id) => rebuild(events).find((m) => m._id === id);
const deltasFor = (events, id) => events.filter((e) => e.event === 'delta' && e.json?._id === id);
const hasStatus = (id, status) => (evs) => docOf(evs, id)?.status === status;

/** Ids of consecutive events go up by exactly one. */
function assertConsecutiveIds(events, what) {
  for (let i = 1; i < events.length; i++) {
    assert.equal(BigInt(events[i].id), BigInt(events[i - 1].id) + 1n,
      `${what}: ids go up by one: ${show(events.slice(i - 1, i + 1)).slice(0, 600)}`);
  }
}

/** A mock and a server of this test's own (own data dir), with restart() and cleanup(). */
async function ownServer(extraEnv = {}) {
  const mock = await startMock('own-primary');
  const env = { ...providerEnv(mock), ...extraEnv };
  let first;
  try {
    first = await startServer({ env });
  } catch (e) {
    await mock.stop();
    throw e;
  }
  const streams = new Set();
  const h = {
    mock,
    env,
    server: first,
    dataDir: first.dataDir,
    secret: first.secret,
    client: (user) => client(h.server, makeToken(user, h.secret)),
    async sse(path, opts) {
      const s = await openSse(h.server, path, opts);
      streams.add(s);
      return s;
    },
    async restart() {
      h.server = await startServer({ env, dataDir: h.dataDir, secret: h.secret });
      return h.server;
    },
    async cleanup() {
      for (const s of streams) s.close();
      try {
        if (h.server && !h.server.stopped) await h.server.stop({ keepDir: true }).catch(() => {});
      } finally {
        fs.rmSync(h.dataDir, { recursive: true, force: true });
        await mock.stop();
      }
    },
  };
  return h;
}

test('cancel mid-stream: the events show "cancelled", no delta follows it, and they rebuild GET exactly', async () => {
  await ctx.resetMocks();
  const c = ctx.client(newUser('cancel'));
  const { conversationId } = await newChat(c);
  const path = `/api/conversations/${conversationId}/events`;
  const s = await sse(path, { token: c.token });
  await s.until((evs) => evs.length >= 1, 'the snapshot');
  assert.equal(s.events[0].event, 'snapshot');

  const text = words(40, 'cx');
  await ctx.primary.script([{ type: 'text', text, chunks: 20, delayMs: 60 }]);
  const { messageId } = await postMessage(c, conversationId, 'stream, then cancel');
  await s.until((evs) => deltasFor(evs, messageId).length >= 3, 'three deltas of the reply');
  const seenBeforeCancel = docOf(s.events, messageId).content;

  expectSuccess(await c.del('/api/messages', { body: { messageId } }), 'DELETE /api/messages');
  await s.until(hasStatus(messageId, 'cancelled'), 'the message event with status "cancelled"');
  const cancelAt = s.events.findIndex((e) => e.event === 'message' && e.json?._id === messageId && e.json.status === 'cancelled');
  assert.ok(cancelAt >= 0, `a message event carries status "cancelled": ${show(s.events).slice(-1500)}`);
  assert.equal(s.events[cancelAt].event, 'message', `a status change is a message event: ${show(s.events[cancelAt])}`);

  // Let time pass observably: a next reply in the same conversation streams for longer than
  // the cancelled one would still have (20 chunks * 60 ms), and completes.
  await ctx.primary.script([{ type: 'text', text: words(20, 'next'), chunks: 10, delayMs: 130 }]);
  const next = await postMessage(c, conversationId, 'and now something else');
  await s.until(hasStatus(next.messageId, 'completed'), 'the next reply completed');

  const late = s.events.slice(cancelAt + 1).filter((e) => e.json?._id === messageId);
  assert.deepEqual(late.map((e) => e.event), [],
    `nothing about the cancelled message after its "cancelled" event: ${show(late).slice(0, 1500)}`);

  const stored = await getMessages(c, conversationId);
  assert.equal(JSON.stringify(rebuild(s.events)), JSON.stringify(stored), 'the events rebuild GET …/messages exactly');
  const cancelled = stored.find((m) => m._id === messageId);
  assert.equal(cancelled.status, 'cancelled');
  assert.ok(cancelled.content.length > 0 && text.startsWith(cancelled.content),
    `the text streamed before the cancel is kept (a prefix of the reply): ${show(cancelled.content)}`);
  assert.ok(seenBeforeCancel.length > 0 && text.startsWith(seenBeforeCancel), show(seenBeforeCancel));
  assertConsecutiveIds(s.events, 'one connection');
});

test('kill -9 mid-stream, restart on the same data dir: a reconnect with Last-Event-ID rebuilds GET exactly, no text twice', async () => {
  const h = await ownServer();
  try {
    const user = newUser('crash');
    const c1 = h.client(user);
    const { conversationId } = await newChat(c1);
    const path = `/api/conversations/${conversationId}/events`;
    const a = await h.sse(path, { token: c1.token });
    await a.until((evs) => evs.length >= 1, 'the snapshot');

    const firstText = words(40, 'first');
    await h.mock.script([{ type: 'text', text: firstText, chunks: 20, delayMs: 100 }]);
    const { messageId } = await postMessage(c1, conversationId, 'stream, then crash');
    await a.until((evs) => deltasFor(evs, messageId).length >= 4, 'four deltas before the crash');
    await h.server.kill9();
    await waitFor(() => a.ended, { timeout: 10_000, what: 'the first stream to end with the process' });
    const seenByA = a.events.slice();
    const lastId = seenByA.at(-1).id;
    assert.ok(docOf(seenByA, messageId).content.length > 0, 'A saw live text before the crash');

    // Whatever the resumed run asks gets this answer, streamed again.
    const againText = words(30, 'again');
    await h.mock.script([{ type: 'text', text: againText, chunks: 15, delayMs: 40 }]);
    await h.restart();
    const c2 = h.client(user);
    const b = await h.sse(path, { token: c2.token, lastEventId: lastId });
    assert.equal(b.status, 200);
    await b.until((evs) => docOf(seenByA.concat(evs), messageId)?.status === 'completed',
      'the completed message after the restart', 20_000);

    assert.ok(b.events.length >= 1);
    assert.ok(BigInt(b.events[0].id) > BigInt(lastId),
      `ids keep growing across the restart: ${lastId} -> ${show(b.events[0]).slice(0, 300)}`);
    // The new process never had A's events: a stale id gets a snapshot first.
    assert.equal(b.events[0].event, 'snapshot', `an id the restarted server does not have gets a snapshot: ${show(b.events[0]).slice(0, 300)}`);
    assert.equal(b.events.filter((e) => e.event === 'snapshot').length, 1, 'one snapshot only');
    assertConsecutiveIds(b.events, 'after the reconnect');

    const stored = await getMessages(c2, conversationId);
    const rebuilt = rebuild(seenByA.concat(b.events));
    assert.equal(JSON.stringify(rebuilt), JSON.stringify(stored), 'A + B events rebuild GET …/messages exactly');
    assert.equal(JSON.stringify(rebuild(b.events)), JSON.stringify(stored), 'B alone (it starts with a snapshot) too');
    const final = stored.find((m) => m._id === messageId);
    assert.equal(final.status, 'completed');
    assert.equal(final.content, againText, 'the content is the completed attempt\'s text, once');
    const ws = final.content.split(' ');
    assert.equal(new Set(ws).size, ws.length, `no word twice: ${show(final.content)}`);
    assert.ok(!final.content.includes('first'), 'nothing of the interrupted attempt is left');
  } finally {
    await h.cleanup();
  }
});

test('a stalled SSE reader holds nobody up; once it reads again it gets every event it missed', async () => {
  await ctx.resetMocks();
  const c = ctx.client(newUser('stall'));
  const { conversationId } = await newChat(c);
  const path = `/api/conversations/${conversationId}/events`;
  // About 380 KB streamed over ~3 s: a stalled reader's socket buffers fill up.
  const text = Array.from({ length: 4000 }, (_, i) => `token${i} ${'x'.repeat(90)}`).join(' ');
  await ctx.primary.script([{ type: 'text', text, chunks: 100, delayMs: 30 }]);

  const stalled = await sse(path, { token: c.token });
  await stalled.until((evs) => evs.length >= 1, 'the stalled reader\'s snapshot');
  const live = await sse(path, { token: c.token });
  await live.until((evs) => evs.length >= 1, 'the live reader\'s snapshot');
  // Stop reading: no more 'data' on the response, and the socket is not read either.
  stalled.res.pause();
  stalled.res.socket.pause();
  const stalledBefore = stalled.events.length;

  const { messageId } = await postMessage(c, conversationId, 'big reply please');
  await live.until(hasStatus(messageId, 'completed'), 'the live reader sees the reply complete', 20_000);
  assert.ok(deltasFor(live.events, messageId).length >= 10,
    `the live reader got the reply as it streamed (${deltasFor(live.events, messageId).length} deltas)`);
  const stored = await getMessages(c, conversationId);
  const reply = stored.find((m) => m._id === messageId);
  assert.equal(reply.status, 'completed', 'the message is completed in the store');
  assert.equal(reply.content, text);
  assert.equal(JSON.stringify(rebuild(live.events)), JSON.stringify(stored), 'the live reader rebuilds GET exactly');
  assert.equal(stalled.events.length, stalledBefore, 'the stalled reader read nothing meanwhile');
  assert.equal(stalled.ended, false, 'the stalled reader is still connected');

  // The server keeps a stalled stream open (its writes wait, up to a 30 s write timeout) and
  // its log holds far more than this reply (4096 events / 8 MB): once the reader reads again,
  // it gets every missed event on the same connection, in order, no second snapshot.
  stalled.res.socket.resume();
  stalled.res.resume();
  await stalled.until(hasStatus(messageId, 'completed'), 'the stalled reader catches up', 20_000);
  assert.equal(stalled.ended, false, 'the server did not close the stalled reader');
  assert.equal(JSON.stringify(rebuild(stalled.events)), JSON.stringify(stored), 'the stalled reader rebuilds GET exactly');
  assert.equal(stalled.events.filter((e) => e.event === 'snapshot').length, 1, 'no second snapshot: nothing was dropped');
  assertConsecutiveIds(stalled.events, 'the stalled reader');
  // Both readers were sent the same events from the reply on.
  const upToDone = (evs) => evs.slice(0, evs.findIndex((e) => e.event === 'message' && e.json?._id === messageId && e.json.status === 'completed') + 1)
    .map((e) => `${e.id} ${e.event} ${e.data}`);
  const [gotStalled, gotLive] = [upToDone(stalled.events), upToDone(live.events)];
  assert.equal(gotStalled.length, gotLive.length, 'the stalled reader got as many events as the live one');
  assert.ok(gotStalled.every((e, i) => e === gotLive[i]), 'the stalled reader got the same events as the live one');
});

test('watchers never cause store writes: with the store throttled, GET lags what SSE clients already have', async () => {
  // The server clamps POLARIS_FLUSH_INTERVAL_MS to at most 1000 ms: the store is written at
  // most once a second while a reply streams (and at the step's end).
  const h = await ownServer({ POLARIS_FLUSH_INTERVAL_MS: '60000' });
  try {
    const c = h.client(newUser('nowrite'));
    const { conversationId } = await newChat(c);
    const path = `/api/conversations/${conversationId}/events`;
    const s = await h.sse(path, { token: c.token });
    const s2 = await h.sse(path, { token: c.token });
    await s.until((evs) => evs.length >= 1, 'the snapshot');
    await s2.until((evs) => evs.length >= 1, 'the second snapshot');

    const text = words(60, 'live');
    await h.mock.script([{ type: 'text', text, chunks: 30, delayMs: 80 }]);
    const t0 = Date.now();
    const { messageId } = await postMessage(c, conversationId, 'stream slowly');
    const liveText = () => docOf(s.events, messageId)?.content ?? '';
    await s.until(() => liveText().split(' ').filter(Boolean).length >= 10, 'ten words of live text');

    // Sample GET until one sample is taken while the message streams and the SSE client
    // (read after the GET answered) already has more than the store.
    const storedWhileProcessing = new Set();
    let sample;
    await waitFor(async () => {
      const m = (await getMessages(c, conversationId)).find((x) => x._id === messageId);
      assert.ok(m, 'the assistant message exists');
      assert.ok(text.startsWith(m.content), `stored text is a prefix of the reply: ${show(m.content)}`);
      if (m.status !== 'processing') throw new Error(`the reply finished before a lagging sample was taken: ${show(m).slice(0, 500)}`);
      storedWhileProcessing.add(m.content);
      const have = liveText();
      if (have.startsWith(m.content) && have.length > m.content.length) sample = { stored: m.content, have };
      return sample;
    }, { timeout: 10_000, interval: 20, what: 'a GET sample behind the SSE text' });
    assert.ok(sample.stored.length < sample.have.length, show(sample));

    // Keep polling the store until the reply completes: the store changes only when the
    // throttle lets the agent write, whatever the two watchers see.
    const done = await waitFor(async () => {
      const m = (await getMessages(c, conversationId)).find((x) => x._id === messageId);
      assert.ok(text.startsWith(m.content), `stored text is a prefix of the reply: ${show(m.content)}`);
      if (m.status === 'processing') { storedWhileProcessing.add(m.content); return null; }
      return m;
    }, { timeout: 15_000, interval: 20, what: 'the reply to leave "processing"' });
    const elapsedS = (Date.now() - t0) / 1000;
    assert.equal(done.status, 'completed');
    assert.equal(done.content, text);
    const deltaCount = deltasFor(s.events, messageId).length;
    assert.ok(deltaCount >= 10, `the watcher got many deltas: ${deltaCount}`);
    // At most one write per second, plus the first: far fewer than the deltas watchers got.
    assert.ok(storedWhileProcessing.size <= Math.floor(elapsedS) + 2,
      `the stored text changed ${storedWhileProcessing.size} times in ${elapsedS.toFixed(1)} s (${deltaCount} deltas): ${show([...storedWhileProcessing].map((x) => x.length))}`);

    await s.until(hasStatus(messageId, 'completed'), 'the completed message (first watcher)');
    await s2.until(hasStatus(messageId, 'completed'), 'the completed message (second watcher)');
    const stored = await getMessages(c, conversationId);
    assert.equal(JSON.stringify(rebuild(s.events)), JSON.stringify(stored), 'the events rebuild GET exactly');
    assert.equal(JSON.stringify(rebuild(s2.events)), JSON.stringify(stored), 'the second watcher too');
  } finally {
    await h.cleanup();
  }
});

// The store lags the live tail by up to one flush interval; a cancel keeps the text clients
// were already sent (the spec: "Content streamed so far is kept"), never takes it back.
test('cancel keeps the text SSE clients were sent before the DELETE', async () => {
  await ctx.resetMocks();
  const c = ctx.client(newUser('cancel-keep'));
  const { conversationId } = await newChat(c);
  const s = await sse(`/api/conversations/${conversationId}/events`, { token: c.token });
  await s.until((evs) => evs.length >= 1, 'the snapshot');
  const text = words(40, 'kp');
  await ctx.primary.script([{ type: 'text', text, chunks: 20, delayMs: 60 }]);
  const { messageId } = await postMessage(c, conversationId, 'stream, then cancel');
  await s.until((evs) => deltasFor(evs, messageId).length >= 3, 'three deltas of the reply');
  const seen = docOf(s.events, messageId).content;
  expectSuccess(await c.del('/api/messages', { body: { messageId } }), 'DELETE /api/messages');
  await s.until(hasStatus(messageId, 'cancelled'), 'the "cancelled" message event');
  const stored = (await getMessages(c, conversationId)).find((m) => m._id === messageId);
  assert.equal(stored.status, 'cancelled');
  assert.ok(stored.content.startsWith(seen),
    `the cancelled content keeps the ${seen.length} characters already streamed to the client: ` +
    `seen ${show(seen)}, stored ${show(stored.content)}`);
});

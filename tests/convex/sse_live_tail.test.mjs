// SSE text comes from the live tail, not the throttled store: with the store written only once
// a second (POLARIS_FLUSH_INTERVAL_MS=1000), a reply streamed in 20 chunks over ~1 s still
// reaches an SSE client as many deltas while it streams; the events rebuild the stored messages
// exactly; a reconnect with Last-Event-ID mid-stream gets exactly what it missed; and text a
// failed attempt streamed before the fallback provider took over is replaced, never kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { newUser } from '../e2e/lib/server.mjs';
import { useMockedServer, newChat, postMessage, getMessages, words } from '../e2e/lib/mock.mjs';
import { useSse, show, rebuildFromEvents as rebuild } from './lib.mjs';

const ctx = useMockedServer({ mocks: 2, env: { POLARIS_FLUSH_INTERVAL_MS: '1000' } });
const sse = useSse(ctx);

async function setup(label) {
  const c = ctx.client(newUser(label));
  const { conversationId } = await newChat(c);
  return { c, conversationId, path: `/api/conversations/${conversationId}/events` };
}

test('deltas arrive as the provider streams, not once per store flush; the events rebuild GET exactly', async () => {
  await ctx.resetMocks();
  const { c, conversationId, path } = await setup('tail');
  const s = await sse(path, { token: c.token });
  await s.until((evs) => evs.length >= 1, 'the snapshot');
  await ctx.primary.script([{ type: 'text', text: words(40, 'tok'), chunks: 20, delayMs: 50 }]);
  const { messageId } = await postMessage(c, conversationId, 'stream it');
  await s.until((evs) => rebuild(evs).find((m) => m._id === messageId && m.status === 'completed'), 'the completed message');
  // Deltas that came before the completing message event: with the store written once a
  // second, only the live tail can have sent many of them.
  const done = s.events.findIndex((e) => e.event === 'message' && e.json._id === messageId && e.json.status === 'completed');
  const early = s.events.slice(0, done).filter((e) => e.event === 'delta' && e.json._id === messageId);
  assert.ok(early.length >= 8, `at least 8 deltas while streaming, got ${early.length}: ${show(s.events.map((e) => e.event))}`);
  const stored = await getMessages(c, conversationId);
  assert.equal(JSON.stringify(rebuild(s.events)), JSON.stringify(stored), 'the events rebuild GET …/messages exactly');
});

test('a reconnect with Last-Event-ID mid-stream gets exactly the missed events, no gap, no duplicate', async () => {
  await ctx.resetMocks();
  const { c, conversationId, path } = await setup('resume');
  const a = await sse(path, { token: c.token });
  await a.until((evs) => evs.length >= 1, 'the snapshot');
  await ctx.primary.script([{ type: 'text', text: words(40, 'res'), chunks: 20, delayMs: 60 }]);
  const { messageId } = await postMessage(c, conversationId, 'stream, then reconnect');
  await a.until((evs) => evs.filter((e) => e.event === 'delta').length >= 4, 'four deltas');
  a.close();
  const got = a.events.slice();
  const b = await sse(path, { token: c.token, lastEventId: got.at(-1).id });
  await b.until((evs) => rebuild(got.concat(evs)).find((m) => m._id === messageId && m.status === 'completed'), 'the completed message after resuming');
  assert.notEqual(b.events[0].event, 'snapshot', `a known Last-Event-ID resumes without a snapshot: ${show(b.events[0])}`);
  const all = got.concat(b.events);
  for (let i = 1; i < all.length; i++) {
    assert.equal(BigInt(all[i].id), BigInt(all[i - 1].id) + 1n, `ids go up by one across the reconnect: ${show(all.slice(i - 1, i + 1))}`);
  }
  const stored = await getMessages(c, conversationId);
  assert.equal(JSON.stringify(rebuild(all)), JSON.stringify(stored));
});

test('text of an attempt that failed mid-stream is replaced when the fallback provider answers', async () => {
  await ctx.resetMocks();
  const { c, conversationId, path } = await setup('fallback');
  const s = await sse(path, { token: c.token });
  await s.until((evs) => evs.length >= 1, 'the snapshot');
  await ctx.primary.script([{ type: 'fault', fault: 'drop_mid_stream', text: words(30, 'lost'), chunks: 10, delayMs: 40 }]);
  await ctx.secondary.script([{ type: 'text', text: words(10, 'kept'), chunks: 5, delayMs: 40 }]);
  const { messageId } = await postMessage(c, conversationId, 'fail over');
  await s.until((evs) => rebuild(evs).find((m) => m._id === messageId && m.status === 'completed'), 'the completed message');
  const final = rebuild(s.events).find((m) => m._id === messageId);
  assert.ok(!final.content.includes('lost'), `the failed attempt's text is gone: ${show(final.content)}`);
  assert.ok(final.content.includes('kept'), final.content);
  const stored = await getMessages(c, conversationId);
  assert.equal(JSON.stringify(rebuild(s.events)), JSON.stringify(stored));
});

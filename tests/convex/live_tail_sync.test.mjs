// The Convex sync protocol shows the live text of a streaming reply, not only its last store
// flush: with the store written once a second (POLARIS_FLUSH_INTERVAL_MS=1000), the official
// client watching messages:getMessages sees the reply grow in many steps while it streams,
// every step a prefix of the next, and ends on exactly the stored messages. Text of a failed
// attempt retried on the fallback provider is taken back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { ConvexClient } from 'convex/browser';
import { anyApi } from 'convex/server';
import { newUser } from '../e2e/lib/server.mjs';
import { useMockedServer, newChat, postMessage, getMessages, words } from '../e2e/lib/mock.mjs';
import { clientOptions, watch, show } from './lib.mjs';

const api = anyApi;
const ctx = useMockedServer({ mocks: 2, env: { POLARIS_FLUSH_INTERVAL_MS: '1000' } });
const open = new Set();
after(async () => { for (const c of open) await c.close(); });

async function setup(label) {
  const user = newUser(label);
  const token = ctx.token(user);
  const c = ctx.client(user);
  const { conversationId } = await newChat(c);
  const { options } = clientOptions();
  const client = new ConvexClient(ctx.server.url, options);
  open.add(client);
  client.setAuth(async () => token);
  const w = watch(client, api.messages.getMessages, { conversationId });
  await w.until((v) => Array.isArray(v), 'the first list');
  return { c, conversationId, w };
}

test('messages:getMessages grows with the live text, many times before the store is written', async () => {
  await ctx.resetMocks();
  const { c, conversationId, w } = await setup('live');
  await ctx.primary.script([{ type: 'text', text: words(40, 'tok'), chunks: 20, delayMs: 50 }]);
  const { messageId } = await postMessage(c, conversationId, 'stream it');
  await w.until((v) => v.find((m) => m._id === messageId && m.status === 'completed'), 'the completed reply');
  const shown = w.values
    .map((v) => v.find((m) => m._id === messageId))
    .filter((m) => m && m.status === 'processing')
    .map((m) => m.content);
  const distinct = [...new Set(shown)];
  assert.ok(distinct.length >= 8, `at least 8 different texts while streaming, got ${distinct.length}: ${show(distinct)}`);
  for (let i = 1; i < distinct.length; i++) {
    assert.ok(distinct[i].startsWith(distinct[i - 1]), `the text only grows: ${show(distinct.slice(i - 1, i + 1))}`);
  }
  const stored = await getMessages(c, conversationId);
  assert.deepEqual(w.lastValue(), stored, 'the last value is the stored list');
});

test('the text of a failed attempt is taken back when the fallback provider answers', async () => {
  await ctx.resetMocks();
  const { c, conversationId, w } = await setup('fallback');
  await ctx.primary.script([{ type: 'fault', fault: 'drop_mid_stream', text: words(30, 'lost'), chunks: 10, delayMs: 40 }]);
  await ctx.secondary.script([{ type: 'text', text: words(10, 'kept'), chunks: 5, delayMs: 40 }]);
  const { messageId } = await postMessage(c, conversationId, 'fail over');
  const done = await w.until((v) => v.find((m) => m._id === messageId && m.status === 'completed'), 'the completed reply');
  const reply = done.find((m) => m._id === messageId);
  assert.ok(!reply.content.includes('lost') && reply.content.includes('kept'), reply.content);
  assert.deepEqual(done, await getMessages(c, conversationId));
});

// A subscriber that stops reading its socket must not hold anyone up: another subscriber of
// the same conversation keeps receiving the stream, and the stalled one, once it reads again,
// gets the final state (fewer, newer Transitions) with an unbroken version chain.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useMockedServer, newChat, postMessage, waitFor } from '../e2e/lib/mock.mjs';
import { openSync, connectMsg, decodeTs, ZERO_TS, show } from './lib.mjs';

const ctx = useMockedServer({ mocks: 1 });

// Subscribes a raw socket to messages:getMessages and follows its Transitions.
async function subscriber(token, conversationId, sessionId) {
  const conn = await openSync(ctx.server);
  const state = { version: { querySet: 0, identity: 0, ts: ZERO_TS }, value: null, updates: 0 };
  conn.ws.on('message', (data) => {
    const m = JSON.parse(data.toString('utf8'));
    if (m.type !== 'Transition') return;
    assert.deepEqual(m.startVersion, state.version, `version chain broken: ${show(m).slice(0, 300)}`);
    assert.ok(decodeTs(m.endVersion.ts) >= decodeTs(m.startVersion.ts), 'ts never goes down');
    state.version = m.endVersion;
    for (const mod of m.modifications) {
      if (mod.type === 'QueryUpdated') { state.value = mod.value; state.updates += 1; }
    }
  });
  conn.send(connectMsg(sessionId));
  conn.send({ type: 'Authenticate', baseVersion: 0, tokenType: 'User', value: token });
  conn.send({
    type: 'ModifyQuerySet', baseVersion: 0, newVersion: 1,
    modifications: [{ type: 'Add', queryId: 7, udfPath: 'messages:getMessages', args: [{ conversationId }] }],
  });
  await waitFor(() => state.version.querySet === 1 && state.version.identity === 1 && Array.isArray(state.value),
    { what: 'subscribed' });
  return { conn, state };
}

const assistant = (state) => (state.value || []).find((m) => m.role === 'assistant');

test('a stalled subscriber blocks nobody and catches up with the final state', async () => {
  const user = 'slow-reader';
  const token = ctx.token(user);
  const c = ctx.client(user);
  const { conversationId } = await newChat(c);
  // A large reply (about 400 KB, streamed over ~3 s): the stalled socket's buffers fill up,
  // so the server's writes to it really block.
  const text = Array.from({ length: 4000 }, (_, i) => `token${i} ${'x'.repeat(90)}`).join(' ');
  await ctx.primary.script([{ type: 'text', text, chunks: 100, delayMs: 30 }]);

  const stalled = await subscriber(token, conversationId, 'stalled-session');
  const live = await subscriber(token, conversationId, 'live-session');
  stalled.conn.ws._socket.pause();  // stop reading: the kernel buffers fill, then writes block
  const updatesBefore = stalled.state.updates;

  const { messageId } = await postMessage(c, conversationId, 'big reply please');
  const seen = new Set();
  await waitFor(() => {
    const m = assistant(live.state);
    if (m && m.status === 'processing' && m.content) seen.add(m.content.length);
    return m && m._id === messageId && m.status === 'completed';
  }, { timeout: 30_000, what: 'the live subscriber sees the reply complete' });
  assert.equal(assistant(live.state).content, text);
  assert.ok(seen.size >= 3, `the live subscriber saw the reply grow (${seen.size} partial states)`);
  assert.equal(stalled.state.updates, updatesBefore, 'the stalled subscriber read nothing meanwhile');

  stalled.conn.ws._socket.resume();
  await waitFor(() => assistant(stalled.state)?.status === 'completed',
    { timeout: 30_000, what: 'the stalled subscriber catches up' });
  assert.equal(assistant(stalled.state).content, text);
  assert.ok(stalled.state.updates - updatesBefore <= live.state.updates,
    'the stalled subscriber got no more (coalesced) updates than the live one');
  await stalled.conn.close();
  await live.conn.close();
});

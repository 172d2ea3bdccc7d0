// Server-Sent Events on GET /api/conversations/:id/events (interface.md "Real-time" 2 and
// "Details"): snapshot first, then `message` / `delta` events with ids increasing by one,
// resume with Last-Event-ID (exactly the missed events), a new snapshot for unknown ids, auth.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { newUser, retag, fakeId, expectOk, expectHealthy } from '../e2e/lib/server.mjs';
import { useMockedServer, newChat, postMessage, getMessages, getMessage, waitStatus, words } from '../e2e/lib/mock.mjs';
import { useSse, eventually, show } from './lib.mjs';

const ctx = useMockedServer({ mocks: 1 });
const sse = useSse(ctx);
const eventsPath = (id) => `/api/conversations/${id}/events`;

/** Applies snapshot/message/delta events to a message list (kept in creation order). */
function reconstruct(events, base = null) {
  const docs = new Map(base ? base.map((m) => [m._id, structuredClone(m)]) : []);
  let have = base !== null;
  for (const ev of events) {
    assert.ok(ev.json !== undefined, `event data must be JSON: ${show(ev)}`);
    if (ev.event === 'snapshot') {
      assert.ok(Array.isArray(ev.json), `snapshot data must be the message array: ${show(ev)}`);
      docs.clear();
      for (const m of ev.json) docs.set(m._id, structuredClone(m));
      have = true;
    } else if (ev.event === 'message') {
      assert.ok(have, 'a message event before any snapshot');
      assert.equal(typeof ev.json._id, 'string', `message event carries a full document: ${show(ev)}`);
      docs.set(ev.json._id, structuredClone(ev.json));
    } else if (ev.event === 'delta') {
      assert.ok(have, 'a delta event before any snapshot');
      assert.deepEqual(Object.keys(ev.json).sort(), ['_id', 'append'], `delta data is {"_id","append"}: ${show(ev)}`);
      assert.equal(typeof ev.json.append, 'string');
      const d = docs.get(ev.json._id);
      assert.ok(d, `delta for a message that was never announced: ${show(ev)}`);
      d.content += ev.json.append;
    } else {
      assert.fail(`unexpected event type: ${show(ev)}`);
    }
  }
  return [...docs.values()];
}

// Ids are compared as BigInt: they are integers, but nothing says they are small.
const idOf = (ev) => BigInt(ev.id);
function assertConsecutive(events, first) {
  for (const [i, ev] of events.entries()) {
    assert.match(String(ev.id), /^\d+$/, `every event has an integer id: ${show(ev)}`);
    if (i === 0 && first !== undefined) assert.equal(idOf(ev), BigInt(first), `first id: ${show(events.slice(0, 3))}`);
    if (i > 0) assert.equal(idOf(ev), idOf(events[i - 1]) + 1n, `ids increase by exactly one: ${show(events.slice(Math.max(0, i - 2), i + 1))}`);
  }
}

const strip = (evs) => evs.map((e) => ({ id: e.id, event: e.event, data: e.data }));

async function setup(label) {
  const c = ctx.client(newUser(label));
  const { projectId, conversationId } = await newChat(c);
  return { c, projectId, conversationId };
}

describe('SSE: access', () => {
  test('401 without or with a bad token; 404 for another user; 400 for malformed ids', async () => {
    const { c, conversationId } = await setup('acc');
    const check = async (path, opts, status, what) => {
      const s = await sse(path, opts);
      if (s.status === 200) s.close();
      assert.equal(s.status, status, `${what}: expected HTTP ${status}, got ${s.status} ${s.body.slice(0, 300)}`);
      assert.equal(typeof s.json?.error, 'string', `${what}: error body {"error": …}, got ${s.body.slice(0, 300)}`);
      return s;
    };
    await check(eventsPath(conversationId), {}, 401, 'no token');
    await check(eventsPath(conversationId), { headers: { authorization: 'Bearer nope' } }, 401, 'garbage token');
    const other = ctx.client(newUser('other'));
    const nf = await check(eventsPath(conversationId), { token: other.token }, 404, "another user's conversation");
    assert.equal(nf.json.error, 'Conversation not found');
    await check(eventsPath(fakeId('cnv', conversationId)), { token: c.token }, 404, 'unknown conversation');
    await check(eventsPath('abc'), { token: c.token }, 400, 'malformed id');
    await check(eventsPath(retag(conversationId, 'prj')), { token: c.token }, 400, 'id of another table');
    await expectHealthy(ctx.server);
  });
});

describe('SSE: live events', () => {
  test('snapshot first, then message/delta events with consecutive ids; they rebuild GET …/messages exactly', async () => {
    const { c, conversationId } = await setup('live');
    const s = await sse(eventsPath(conversationId), { token: c.token });
    assert.equal(s.status, 200, s.body);
    assert.match(String(s.headers['content-type']), /^text\/event-stream/);
    await s.until((evs) => evs.length >= 1, 'the snapshot');
    const [snap] = s.events;
    assert.equal(snap.event, 'snapshot');
    assert.deepEqual(snap.json, []);
    assert.match(String(snap.id), /^\d+$/, `the snapshot carries an integer id: ${show(snap)}`);

    const text = words(30, 'sse');
    await ctx.primary.script([{ type: 'text', text, chunks: 10, delayMs: 150 }]);
    const { messageId } = await postMessage(c, conversationId, 'stream to SSE');
    await s.until((evs) => reconstruct(evs).find((m) => m._id === messageId && m.status === 'completed'), 'the completed message');
    const rest = await getMessages(c, conversationId);
    await s.until((evs) => JSON.stringify(reconstruct(evs)) === JSON.stringify(rest), 'events to rebuild GET …/messages exactly');
    assert.deepEqual(reconstruct(s.events), rest);

    const evs = s.events;
    assertConsecutive(evs, snap.id);
    assert.equal(evs.filter((e) => e.event === 'snapshot').length, 1, 'one snapshot only');
    const msgEvents = evs.filter((e) => e.event === 'message');
    const deltas = evs.filter((e) => e.event === 'delta');
    // Creation of the user and the assistant message are announced as full documents.
    const firstUser = msgEvents.find((e) => e.json.role === 'user');
    assert.ok(firstUser, 'a message event for the user message');
    assert.equal(firstUser.json.content, 'stream to SSE');
    const firstAsst = msgEvents.find((e) => e.json._id === messageId);
    assert.ok(firstAsst, 'a message event for the assistant message');
    assert.equal(firstAsst.json.status, 'processing');
    assert.ok(msgEvents.indexOf(firstUser) < msgEvents.indexOf(firstAsst), 'user message first');
    assert.equal(msgEvents.at(-1).json._id, messageId);
    assert.equal(msgEvents.at(-1).json.status, 'completed', 'the status change is a message event');
    assert.ok(deltas.length >= 3, `content grows through several delta events, saw ${deltas.length}`);
    for (const d of deltas) {
      assert.equal(d.json._id, messageId);
      assert.ok(d.json.append.length > 0, 'a delta appends something');
    }
    s.close();
  });

  test('tool calls are announced as message events (toolCalls, then their result)', async () => {
    const { c, conversationId } = await setup('tools');
    const s = await sse(eventsPath(conversationId), { token: c.token });
    await s.until((evs) => evs.length >= 1, 'the snapshot');
    await ctx.primary.script([
      { type: 'tool_calls', text: 'Making a folder.', calls: [{ id: 'call_dir', name: 'create_folder', arguments: { path: 'src' } }] },
      { type: 'text', text: 'Folder made.' },
    ]);
    const { messageId } = await postMessage(c, conversationId, 'make src');
    const final = await waitStatus(c, conversationId, messageId, 'completed');
    assert.equal(final.toolCalls?.[0]?.name, 'create_folder', show(final));
    await s.until((evs) => reconstruct(evs).find((m) => m._id === messageId && m.status === 'completed'), 'the completed message');
    const withCalls = s.events.filter((e) => e.event === 'message' && e.json._id === messageId && Array.isArray(e.json.toolCalls));
    assert.ok(withCalls.length >= 1, `a message event carries toolCalls: ${show(s.events.map((e) => e.event))}`);
    assert.equal(withCalls[0].json.toolCalls[0].name, 'create_folder');
    assert.ok(withCalls.some((e) => e.json.toolCalls[0].result?.success === true), 'the tool result arrives as a message event');
    assertConsecutive(s.events);
    const rest = await getMessages(c, conversationId);
    await s.until((evs) => JSON.stringify(reconstruct(evs)) === JSON.stringify(rest), 'events to rebuild GET …/messages exactly');
    s.close();
  });
});

describe('SSE: resume with Last-Event-ID', () => {
  test('reconnecting mid-stream gets exactly the missed events (no gap, no duplicate), then live ones', async (t) => {
    const { c, conversationId } = await setup('resume');
    const a = await sse(eventsPath(conversationId), { token: c.token });
    await a.until((evs) => evs.length >= 1, 'the snapshot');
    const text = words(40, 'res');
    await ctx.primary.script([{ type: 'text', text, chunks: 20, delayMs: 150 }]);
    const { messageId } = await postMessage(c, conversationId, 'resume me');
    await a.until((evs) => evs.filter((e) => e.event === 'delta').length >= 2, 'two deltas');
    a.close();
    const got = a.events.slice();
    assertConsecutive(got);
    const lastId = idOf(got.at(-1));
    const seenContent = reconstruct(got).find((m) => m._id === messageId).content;
    // Let the stream move on while we are away, so there is something to miss.
    await eventually(async () => (await getMessage(c, conversationId, messageId)).content.length > seenContent.length,
      { what: 'content to grow while disconnected' });

    const b = await sse(eventsPath(conversationId), { token: c.token, lastEventId: lastId });
    assert.equal(b.status, 200, b.body);
    await b.until((evs) => reconstruct(got.concat(evs)).find((m) => m._id === messageId && m.status === 'completed'), 'the completed message after resuming');
    assert.notEqual(b.events[0].event, 'snapshot', `a known Last-Event-ID resumes without a snapshot: ${show(b.events[0])}`);
    assertConsecutive(b.events, lastId + 1n);
    const rest = await getMessages(c, conversationId);
    await b.until((evs) => JSON.stringify(reconstruct(got.concat(evs))) === JSON.stringify(rest), 'old + resumed events to rebuild GET …/messages');
    assert.equal(rest.find((m) => m._id === messageId).content, text);
    b.close();

    // Asking again for the same point gives the same events (exactly what was missed), or, if the
    // server no longer keeps them, a snapshot equal to the current list.
    const again = await sse(eventsPath(conversationId), { token: c.token, lastEventId: lastId });
    await again.until((evs) => evs.length >= 1, 'replay');
    if (again.events[0].event === 'snapshot') {
      t.diagnostic('a second resume from the same id got a snapshot (events no longer kept)');
      assert.deepEqual(again.events[0].json, rest);
    } else {
      t.diagnostic('a second resume from the same id replayed the same events');
      await again.until((evs) => evs.length >= b.events.length, 'the full replay');
      assert.deepEqual(strip(again.events.slice(0, b.events.length)), strip(b.events), 'replay is identical');
    }
    again.close();
  });

  test('resuming from a snapshot id: nothing is replayed, the next live event is snapshot id + 1', async () => {
    const { c, conversationId } = await setup('snapid');
    await ctx.primary.script([{ type: 'text', text: 'first answer' }]);
    const first = await postMessage(c, conversationId, 'one');
    await waitStatus(c, conversationId, first.messageId, 'completed');
    const s1 = await sse(eventsPath(conversationId), { token: c.token });
    await s1.until((evs) => evs.length >= 1, 'the snapshot');
    const snap = s1.events[0];
    assert.equal(snap.event, 'snapshot');
    assert.deepEqual(snap.json, await getMessages(c, conversationId));
    s1.close();

    const s2 = await sse(eventsPath(conversationId), { token: c.token, lastEventId: snap.id });
    assert.equal(s2.status, 200);
    await ctx.primary.script([{ type: 'text', text: 'second answer' }]);
    const second = await postMessage(c, conversationId, 'two');
    await s2.until((evs) => reconstruct(evs, snap.json).find((m) => m._id === second.messageId && m.status === 'completed'), 'the second reply');
    assert.notEqual(s2.events[0].event, 'snapshot', `nothing was missed, so no snapshot: ${show(s2.events[0])}`);
    assertConsecutive(s2.events, BigInt(snap.id) + 1n);
    const rest = await getMessages(c, conversationId);
    await s2.until((evs) => JSON.stringify(reconstruct(evs, snap.json)) === JSON.stringify(rest), 'snapshot + events to rebuild the list');
    s2.close();
  });

  test('an unknown, too old, future or unusable Last-Event-ID gives a new snapshot', async () => {
    const { c, conversationId } = await setup('unknown');
    await ctx.primary.script([{ type: 'text', text: 'some answer', chunks: 3 }]);
    const { messageId } = await postMessage(c, conversationId, 'hello');
    await waitStatus(c, conversationId, messageId, 'completed');
    const rest = await getMessages(c, conversationId);
    const probe = await sse(eventsPath(conversationId), { token: c.token });
    await probe.until((evs) => evs.length >= 1, 'snapshot');
    probe.close();
    const latest = BigInt(probe.events[0].id);
    // "1" is older than anything the server keeps (or at least than this conversation's
    // history); an id past the latest one cannot be resumed either (e.g. from before a restart).
    for (const lastEventId of ['1', 'garbage', '-5', '1.5', String(latest + 1_000_000n)]) {
      const s = await sse(eventsPath(conversationId), { token: c.token, lastEventId });
      assert.equal(s.status, 200, `Last-Event-ID ${lastEventId}: ${s.body}`);
      await s.until((evs) => evs.length >= 1, `an event for Last-Event-ID ${lastEventId}`);
      assert.equal(s.events[0].event, 'snapshot', `Last-Event-ID ${lastEventId} → a new snapshot, got ${show(s.events[0])}`);
      assert.deepEqual(s.events[0].json, rest);
      s.close();
    }
    // A fresh connection's snapshot is the latest state too.
    const fresh = await sse(eventsPath(conversationId), { token: c.token });
    await fresh.until((evs) => evs.length >= 1, 'snapshot');
    assert.deepEqual(fresh.events[0].json, rest);
    fresh.close();
    expectOk(await c.get(`/api/conversations/${conversationId}`));
  });
});

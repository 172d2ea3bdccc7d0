// The Convex protocol across several `polaris serve` processes on one PostgreSQL database
// (POLARIS_TEST_PG_URI; the whole file is skipped without it): the official ConvexClient on
// one process watches a run stream that executes on another, and a Mutation re-sent with the
// same (sessionId, requestId) gets the first MutationResponse again on another process and
// after a restart of that process, without running twice. The REST/SSE multi-process cases are
// in tests/e2e/multiprocess.test.mjs.
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ConvexClient } from 'convex/browser';
import { anyApi } from 'convex/server';
import {
  makeToken, client, newUser, expectOk, expectId,
} from '../e2e/lib/server.mjs';
import {
  newChat, postMessage, getMessage, words,
} from '../e2e/lib/mock.mjs';
import { newPair } from '../e2e/lib/pair.mjs';
import {
  clientOptions, watch, assertProtocolInvariants, openSync, connectMsg, show,
} from './lib.mjs';

const api = anyApi;
const PG = process.env.POLARIS_TEST_PG_URI || '';

/** A raw sync socket on `server`: Connect (session S) and Authenticate. */
async function syncSession(server, sessionId, token, connect = {}) {
  const conn = await openSync(server);
  conn.send(connectMsg(sessionId, connect));
  conn.send({ type: 'Authenticate', baseVersion: 0, tokenType: 'User', value: token });
  return conn;
}

/** Sends a Mutation; returns its MutationResponse (Transitions in between are skipped). */
async function mutate(conn, requestId, udfPath, args) {
  conn.send({ type: 'Mutation', requestId, udfPath, args: [args] });
  for (;;) {
    const m = await conn.next();
    assert.ok(!['AuthError', 'FatalError'].includes(m.type), `unexpected ${show(m)}`);
    if (m.type === 'MutationResponse') {
      assert.equal(m.requestId, requestId, `MutationResponse for another request: ${show(m)}`);
      return m;
    }
  }
}

const answer = (r) => ({ success: r.success, result: r.result, ts: r.ts });

describe('Convex protocol across processes on one PostgreSQL database', { skip: !PG && 'needs POLARIS_TEST_PG_URI' }, () => {
  let p;
  const open = new Set();
  before(async () => { p = await newPair('convex'); });
  after(async () => {
    for (const c of open) await c.close().catch(() => {});
    if (p) await p.stop();
  });
  beforeEach(async () => { if (p) await p.resetMocks(); });

  test('ConvexClient on the other process sees the run stream (≥ 2 partial contents), then completed with the runner\'s content', { timeout: 60_000 }, async () => {
    const user = newUser('cmp');
    const token = makeToken(user, p.secret);
    const restA = client(p.a, token);
    const { conversationId } = await newChat(restA);
    // A subscriber on each process before the run starts; the one on the process that does
    // not execute the run is the one under test.
    const subs = {};
    for (const [name, server] of [['A', p.a], ['B', p.b]]) {
      const { rec, options } = clientOptions();
      const c = new ConvexClient(server.url, options);
      open.add(c);
      c.setAuth(async () => token);
      const w = watch(c, api.messages.getMessages, { conversationId });
      await w.until((v) => Array.isArray(v) && v.length === 0, `an empty message list on ${name}`);
      subs[name] = { c, w, rec };
    }
    const text = words(30, 'cvx');
    for (const m of p.mocks) await m.script([{ type: 'text', text, chunks: 20, delayMs: 75 }]);
    const { messageId } = await postMessage(restA, conversationId, 'stream slowly please');
    const who = await p.whoRuns();
    if (who.name !== 'A') console.log(`note: the run posted on A executes on ${who.name}; watching from ${who.otherName}`);
    const { w, rec } = subs[who.otherName];
    const final = await w.until((v) => v.find((m) => m._id === messageId && m.status === 'completed'),
      `the completed message on process ${who.otherName}`, 20_000);
    const partial = [];
    for (const v of w.values) {
      const m = v.find((x) => x._id === messageId);
      if (!m) continue;
      if (m.status === 'completed') break;
      assert.ok(text.startsWith(m.content), `content must be a prefix of the streamed text: ${show(m.content)}`);
      if (m.status === 'processing' && m.content && m.content !== text && !partial.includes(m.content)) partial.push(m.content);
    }
    assert.ok(partial.length >= 2,
      `the ConvexClient on ${who.otherName} must see the content grow (≥ 2 partial contents) before "completed"; saw ${partial.length}: ${show(partial)}`);
    const onRunner = await getMessage(client(who.runner, token), conversationId, messageId);
    assert.equal(onRunner.status, 'completed');
    assert.equal(onRunner.content, text);
    assert.equal(final.find((m) => m._id === messageId).content, onRunner.content);
    assertProtocolInvariants(rec);
    for (const s of Object.values(subs)) { open.delete(s.c); await s.c.close(); }
  });

  test('a Mutation re-sent with the same (sessionId, requestId) on the other process, and after its restart, gets the first answer; it ran once', { timeout: 60_000 }, async () => {
    const user = newUser('dedup');
    const token = makeToken(user, p.secret);
    const sessionId = crypto.randomUUID();
    const args = { name: `dedup ${user}` };
    const projects = async (server) => expectOk(await client(server, token).get('/api/projects'), 'GET /api/projects');

    const onA = await syncSession(p.a, sessionId, token);
    const r1 = await mutate(onA, 1, 'projects:create', args);
    assert.equal(r1.success, true, show(r1));
    expectId(r1.result, 'prj', 'projects:create result');
    await onA.close();

    // The client "reconnects" to the other process: same session, same requestId.
    const onB = await syncSession(p.b, sessionId, token, { connectionCount: 1, lastCloseReason: 'ConnectionLost' });
    const r2 = await mutate(onB, 1, 'projects:create', args);
    assert.deepEqual(answer(r2), answer(r1), 'B answers the stored MutationResponse (same result, same ts)');
    await onB.close();
    let list = await projects(p.b);
    assert.deepEqual(list.map((x) => x._id), [r1.result], `the mutation ran once: ${show(list)}`);

    // B restarts on the same database: it still knows the answered mutation.
    const bDir = p.b.dataDir;
    await p.b.stop({ keepDir: true });
    p.b = await p.start('B', bDir);
    const onB2 = await syncSession(p.b, sessionId, token, { connectionCount: 2, lastCloseReason: 'ConnectionLost' });
    const r3 = await mutate(onB2, 1, 'projects:create', args);
    assert.deepEqual(answer(r3), answer(r1), 'the restarted B answers the stored MutationResponse');
    // The next requestId of the session is a new mutation.
    const r4 = await mutate(onB2, 2, 'projects:create', args);
    assert.equal(r4.success, true, show(r4));
    assert.notEqual(r4.result, r1.result, 'requestId 2 is a new mutation');
    await onB2.close();
    // And A still answers requestId 1 with the first answer.
    const onA2 = await syncSession(p.a, sessionId, token, { connectionCount: 3, lastCloseReason: 'ConnectionLost' });
    const r5 = await mutate(onA2, 1, 'projects:create', args);
    assert.deepEqual(answer(r5), answer(r1), 'A answers requestId 1 with the first answer too');
    await onA2.close();
    list = await projects(p.a);
    assert.deepEqual(list.map((x) => x._id).sort(), [r1.result, r4.result].sort(), `two projects, no duplicate: ${show(list)}`);
  });
});

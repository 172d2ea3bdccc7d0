// The official `convex` npm client (ConvexClient from convex/browser, 1.48.0) against the real
// binary: subscriptions, read-your-writes, a streamed assistant reply, reconnect after a server
// restart on the same port, auth (good, forged, refreshed), errors and the function aliases.
import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ConvexClient } from 'convex/browser';
import { anyApi, makeFunctionReference } from 'convex/server';
import {
  startServer, makeToken, signJwt, client as restClient, expectOk, expectId, expectHealthy, newUser, retag, fakeId,
} from '../e2e/lib/server.mjs';
import {
  useMockedServer, startMock, providerEnv, newChat, postMessage, getMessages, waitStatus, words,
} from '../e2e/lib/mock.mjs';
import {
  clientOptions, watch, eventually, assertProtocolInvariants, restartOnSamePort, show,
} from './lib.mjs';

const api = anyApi;
const ctx = useMockedServer({ mocks: 1 });

// Every client made here is closed after its test (or at the end of the file at the latest).
const open = new Set();
function newClient(server = ctx.server, extra) {
  const { rec, log, options } = clientOptions(extra);
  const c = new ConvexClient(server.url, options);
  open.add(c);
  return { c, rec, log };
}
async function closeClient(c) {
  open.delete(c);
  await c.close();
}
after(async () => { for (const c of open) await c.close(); });

function noFatalLogs(log) {
  const bad = log.lines.filter((l) => /FATAL|Invalid start version|Could not parse/i.test(l.text));
  assert.deepEqual(bad, [], `client logged protocol errors:\n${log.text()}`);
}

/** A user with a REST client, a token and a project. */
async function userWithProject(label = 'cc') {
  const user = newUser(label);
  const token = ctx.token(user);
  const rest = restClient(ctx.server, token);
  const projectId = expectOk(await rest.post('/api/projects', { name: `${label} project` }), 'create project').projectId;
  return { user, token, rest, projectId };
}

describe('ConvexClient: subscriptions and mutations', () => {
  test('read-your-writes: when mutation() resolves, the subscription already shows the new conversation', async () => {
    const { token, rest, projectId } = await userWithProject();
    const { c, rec, log } = newClient();
    const authChanges = [];
    c.setAuth(async () => token, (v) => authChanges.push(v));
    const w = watch(c, api.conversations.getConversations, { projectId });
    await w.until((v) => Array.isArray(v) && v.length === 0, 'an empty conversation list');

    for (const title of ['First chat', 'Second chat']) {
      const id = await c.mutation(api.conversations.create, { projectId, title });
      // No await between the mutation resolving and these checks.
      expectId(id, 'cnv', 'conversations:create result');
      const latest = w.lastValue();
      assert.ok(Array.isArray(latest), `subscription value must be an array, got ${show(latest)}`);
      const doc = latest.find((x) => x._id === id);
      assert.ok(doc, `read-your-writes: ${id} must be in the subscription when mutation() resolves; latest: ${show(latest)}`);
      assert.equal(doc.title, title);
      assert.equal(doc.projectId, projectId);
      assert.equal(typeof doc._creationTime, 'number');
      assert.equal(typeof doc.updatedAt, 'number');
      assert.deepEqual(w.current(), latest, 'getCurrentValue() agrees with the last callback');
      assert.equal(w.errors.length, 0, `no query errors expected: ${w.errors.map((e) => e.message)}`);
    }
    // The REST view agrees: newest first, same documents.
    const restList = expectOk(await rest.get(`/api/projects/${projectId}/conversations`), 'REST list');
    assert.deepEqual(w.lastValue(), restList, 'Convex query and REST list return the same documents in the same order');
    assert.deepEqual(restList.map((x) => x.title), ['Second chat', 'First chat']);
    assert.deepEqual(authChanges, [true], 'onChange(true) once for a valid token');
    assertProtocolInvariants(rec);
    noFatalLogs(log);
    await closeClient(c);
  });

  test('a streamed assistant reply is seen growing through pushed updates, then completed', async () => {
    const { token, rest, projectId } = await userWithProject();
    const { conversationId } = await newChat(rest, { projectId });
    const { c, rec, log } = newClient();
    c.setAuth(async () => token);
    const w = watch(c, api.messages.getMessages, { conversationId });
    await w.until((v) => Array.isArray(v) && v.length === 0, 'an empty message list');

    const text = words(36, 'tok');
    await ctx.primary.script([{ type: 'text', text, chunks: 12, delayMs: 200 }]);
    const { messageId } = await postMessage(rest, conversationId, 'stream slowly please');

    const final = await w.until((v) => v.find((m) => m._id === messageId && m.status !== 'processing'),
      'the assistant message to leave "processing"', 20_000);
    const asst = final.find((m) => m._id === messageId);
    assert.equal(asst.status, 'completed', show(asst));
    assert.equal(asst.content, text);
    assert.equal(asst.role, 'assistant');

    // Every pushed value, in order: the assistant's content only grows and is a prefix of the text.
    const partial = [];
    let prevLen = -1;
    for (const v of w.values) {
      const m = v.find((x) => x._id === messageId);
      if (!m) continue;
      assert.ok(text.startsWith(m.content), `content must be a prefix of the streamed text: ${show(m.content)}`);
      assert.ok(m.content.length >= prevLen, `content must only grow: ${prevLen} -> ${m.content.length}`);
      prevLen = m.content.length;
      if (m.status === 'processing' && m.content && !partial.includes(m.content)) partial.push(m.content);
    }
    assert.ok(partial.length >= 3,
      `expected at least 3 distinct non-empty partial contents while processing, saw ${partial.length}: ${show(partial)}`);

    const user = final.find((m) => m.role === 'user');
    assert.ok(user, 'the user message is in the subscription');
    assert.equal(user.content, 'stream slowly please');
    // Once settled, the subscription equals the REST list exactly.
    const restList = await getMessages(rest, conversationId);
    await w.until((v) => JSON.stringify(v) === JSON.stringify(restList), 'the subscription to equal GET …/messages');

    // The server leaves out results that did not change (protocol §5): no two consecutive
    // pushes of this query carry the same value.
    for (let i = 1; i < w.values.length; i++) {
      assert.notDeepEqual(w.values[i], w.values[i - 1], `push ${i} repeats the previous value: ${show(w.values[i]).slice(0, 400)}`);
    }
    assertProtocolInvariants(rec);
    noFatalLogs(log);
    await closeClient(c);
  });

  test('unsubscribing stops callbacks; a later subscription to the same query works', async () => {
    const { token, rest, projectId } = await userWithProject();
    const { c, rec } = newClient();
    c.setAuth(async () => token);
    const w = watch(c, api.conversations.getConversations, { projectId });
    await w.until((v) => Array.isArray(v) && v.length === 0, 'an empty list');
    w.unsubscribe();
    const sent = () => rec.sent().filter((m) => m.type === 'ModifyQuerySet').flatMap((m) => m.modifications);
    await eventually(() => sent().some((m) => m.type === 'Remove'), { what: 'the client to send Remove' });
    // The server's Transition with QueryRemoved.
    await eventually(() => rec.received().some((m) => m.type === 'Transition'
      && m.modifications.some((x) => x.type === 'QueryRemoved')), { what: 'a Transition with QueryRemoved', detail: () => show(rec.received()) });
    const before = w.events.length;
    expectOk(await rest.post('/api/conversations', { projectId, title: 'after unsubscribe' }));
    const w2 = watch(c, api.conversations.getConversations, { projectId });
    await w2.until((v) => v.length === 1 && v[0].title === 'after unsubscribe', 'the new subscription to see the conversation');
    assert.equal(w.events.length, before, 'an unsubscribed callback is not called again');
    assertProtocolInvariants(rec);
    await closeClient(c);
  });

  test('aliases: conversations:getMessages = messages:getMessages, conversations:getByProject = conversations:getConversations', async () => {
    const { token, rest, projectId } = await userWithProject();
    const { conversationId } = await newChat(rest, { projectId, title: 'alias chat' });
    await ctx.primary.script([{ type: 'text', text: 'alias answer' }]);
    const { messageId } = await postMessage(rest, conversationId, 'alias question');
    await waitStatus(rest, conversationId, messageId, 'completed');

    const { c } = newClient();
    c.setAuth(async () => token);
    const seedMsgs = await c.query(api.messages.getMessages, { conversationId });
    const aliasMsgs = await c.query(api.conversations.getMessages, { conversationId });
    const byString = await c.query(makeFunctionReference('conversations:getMessages'), { conversationId });
    assert.equal(seedMsgs.length, 2, show(seedMsgs));
    assert.deepEqual(aliasMsgs, seedMsgs);
    assert.deepEqual(byString, seedMsgs);
    assert.deepEqual(seedMsgs.map((m) => [m.role, m.content]), [['user', 'alias question'], ['assistant', 'alias answer']]);

    const seedConvs = await c.query(api.conversations.getConversations, { projectId });
    const aliasConvs = await c.query(api.conversations.getByProject, { projectId });
    assert.equal(seedConvs.length, 1);
    assert.equal(seedConvs[0]._id, conversationId);
    assert.deepEqual(aliasConvs, seedConvs);
    await closeClient(c);
  });
});

describe('ConvexClient: auth', () => {
  test('valid token: onChange(true); a refreshed (different) token is accepted too', async () => {
    const { user, projectId } = await userWithProject();
    const { c, rec, log } = newClient();
    let calls = 0;
    const fetched = [];
    const changes = [];
    // Each fetch returns a distinct token (nonce), so the client sends a second Authenticate
    // right after the first is confirmed (protocol §6.1 step 4).
    c.setAuth(async ({ forceRefreshToken }) => {
      calls += 1;
      fetched.push(forceRefreshToken);
      return makeToken(user, ctx.server.secret, { nonce: calls });
    }, (v) => changes.push(v));
    const w = watch(c, api.conversations.getConversations, { projectId });
    await w.until((v) => Array.isArray(v), 'query data');
    await eventually(() => changes.length >= 1, { what: 'onChange' });
    assert.equal(changes[0], true);
    // The second Authenticate (baseVersion 1) gets an identity-bumping Transition.
    await eventually(() => rec.sent().filter((m) => m.type === 'Authenticate').length >= 2,
      { what: 'the refresh Authenticate', detail: () => show(rec.sent()) });
    const auths = rec.sent().filter((m) => m.type === 'Authenticate');
    assert.deepEqual(auths.map((a) => [a.baseVersion, a.tokenType]), [[0, 'User'], [1, 'User']]);
    await eventually(() => rec.received().some((m) => m.type === 'Transition' && m.endVersion.identity === 2
      && m.startVersion.identity < 2), { what: 'a Transition with endVersion.identity 2', detail: () => show(rec.received()) });
    assert.ok(!rec.received().some((m) => m.type === 'AuthError'), `no AuthError expected: ${show(rec.received())}`);
    // convex 1.48.0 calls onChange(true) again when the refreshed token is confirmed (its
    // state is already "waitingForScheduledRefetch" when it checks hadAuth); never false.
    assert.ok(changes.length >= 1 && changes.every((v) => v === true), `onChange stays true across the refresh: ${show(changes)}`);
    assert.deepEqual(fetched.slice(0, 2), [false, true]);
    // Still authenticated: a mutation works under the refreshed token.
    const id = await c.mutation(api.conversations.create, { projectId, title: 'after refresh' });
    expectId(id, 'cnv');
    assert.ok(w.lastValue().some((x) => x._id === id));
    assertProtocolInvariants(rec);
    noFatalLogs(log);
    await closeClient(c);
  });

  const badTokens = {
    'forged (wrong secret)': (user) => makeToken(user, 'not-the-server-secret-at-all-0123456789'),
    'garbage': () => 'this-is-not-a-jwt',
    'expired': (user) => makeToken(user, ctx.server.secret, { iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 }),
    'alg none': (user) => signJwt({ sub: user, iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 3600 }, 'x', { alg: 'none', typ: 'JWT' }).replace(/\.[^.]*$/, '.'),
  };
  for (const [what, mk] of Object.entries(badTokens)) {
    test(`${what} token: onChange(false), AuthError, and queries fail`, async () => {
      const { user, projectId } = await userWithProject();
      const { c, rec } = newClient();
      const changes = [];
      const bad = mk(user);
      c.setAuth(async () => bad, (v) => changes.push(v));
      const w = watch(c, api.conversations.getConversations, { projectId });
      await eventually(() => changes.length > 0, { what: 'onChange after a rejected token', detail: () => show(rec.received()) });
      assert.deepEqual(changes, [false], 'onChange(false) only');
      const authErr = rec.received().find((m) => m.type === 'AuthError');
      assert.ok(authErr, `the server must answer the bad Authenticate with AuthError: ${show(rec.received())}`);
      assert.equal(authErr.authUpdateAttempted, true);
      assert.equal(authErr.baseVersion, 0);
      assert.equal(typeof authErr.error, 'string');
      // The client reconnects without auth: the query fails, it never gets data.
      const err = await w.untilError('the query to fail without auth');
      assert.match(err.message, /unauthori[sz]ed|unauthenticated|not authenticated/i);
      assert.equal(w.values.length, 0, `no data for an unauthenticated client: ${show(w.values)}`);
      assertProtocolInvariants(rec);
      await closeClient(c);
    });
  }
});

describe('ConvexClient: errors', () => {
  test('unauthenticated query and mutation fail', async () => {
    const { projectId } = await userWithProject();
    const { c, rec } = newClient();
    await assert.rejects(c.query(api.conversations.getConversations, { projectId }), /unauthori[sz]ed|unauthenticated|not authenticated/i);
    await assert.rejects(c.mutation(api.conversations.create, { projectId, title: 'nope' }), /unauthori[sz]ed|unauthenticated|not authenticated/i);
    assertProtocolInvariants(rec);
    await closeClient(c);
  });

  test("another user's conversation: Conversation not found; wrong-table and malformed ids fail; the connection survives", async () => {
    const a = await userWithProject('owner');
    const { conversationId } = await newChat(a.rest, { projectId: a.projectId });
    const b = await userWithProject('intruder');
    const { c, rec, log } = newClient();
    c.setAuth(async () => b.token);
    await assert.rejects(c.query(api.messages.getMessages, { conversationId }), (e) => {
      assert.match(e.message, /Conversation not found/);
      return true;
    });
    await assert.rejects(c.query(api.conversations.getMessages, { conversationId }), /Conversation not found/);
    // Another user's project: cannot list or create in it.
    await assert.rejects(c.query(api.conversations.getConversations, { projectId: a.projectId }), /not found/i);
    await assert.rejects(c.mutation(api.conversations.create, { projectId: a.projectId, title: 'sneaky' }), /not found/i);
    assert.equal(expectOk(await a.rest.get(`/api/projects/${a.projectId}/conversations`)).length, 1, 'nothing created in the foreign project');
    // Ids of another table / malformed / unknown.
    await assert.rejects(c.query(api.messages.getMessages, { conversationId: b.projectId }));
    await assert.rejects(c.query(api.messages.getMessages, { conversationId: retag(conversationId, 'msg') }));
    await assert.rejects(c.query(api.messages.getMessages, { conversationId: 'abc' }));
    await assert.rejects(c.query(api.messages.getMessages, {}));
    await assert.rejects(c.query(api.messages.getMessages, { conversationId: 5 }));
    await assert.rejects(c.query(api.messages.getMessages, { conversationId: fakeId('cnv', conversationId) }), /not found/i);
    await assert.rejects(c.mutation(api.conversations.create, { projectId: retag(b.projectId, 'cnv'), title: 'x' }));
    await assert.rejects(c.query(makeFunctionReference('nope:nothing'), {}), /could not find|unknown|not found/i);
    await assert.rejects(c.mutation(makeFunctionReference('nope:nothing'), {}), /could not find|unknown|not found/i);
    // Calling a query as a mutation is refused too.
    await assert.rejects(c.mutation(makeFunctionReference('messages:getMessages'), { conversationId }));
    await expectHealthy(ctx.server, 'after bad ids');
    // Same client, same socket: still works.
    const own = await c.query(api.conversations.getConversations, { projectId: b.projectId });
    assert.deepEqual(own, []);
    assert.equal(rec.sockets.length, 1, 'errors must not drop the connection');
    assert.ok(!rec.received().some((m) => m.type === 'FatalError'), 'no FatalError for function errors');
    assertProtocolInvariants(rec);
    noFatalLogs(log);
    await closeClient(c);
  });
});

describe('ConvexClient: reconnect', () => {
  test('server restart on the same port: the client reconnects, re-subscribes and sees new data', async () => {
    const mock = await startMock('restart-mock');
    const env = providerEnv(mock);
    let s1;
    let s2;
    let c;
    try {
      s1 = await startServer({ env });
      const user = newUser('restart');
      const token = makeToken(user, s1.secret);
      const projectId = expectOk(await restClient(s1, token).post('/api/projects', { name: 'restart' })).projectId;
      const made = newClient(s1);
      c = made.c;
      const { rec, log } = made;
      c.setAuth(async () => token);
      const w = watch(c, api.conversations.getConversations, { projectId });
      await w.until((v) => Array.isArray(v) && v.length === 0, 'an empty list');
      const before = await c.mutation(api.conversations.create, { projectId, title: 'before restart' });
      assert.ok(w.lastValue().some((x) => x._id === before));
      assert.equal(c.connectionState().isWebSocketConnected, true);

      s2 = await restartOnSamePort(s1, env);
      // The client noticed (a second socket) and is connected again.
      await eventually(() => rec.sockets.length >= 2 && c.connectionState().isWebSocketConnected,
        { what: 'the client to reconnect', detail: () => show(c.connectionState()) });
      const after = expectOk(await restClient(s2, token).post('/api/conversations', { projectId, title: 'after restart' })).conversationId;
      const list = await w.until((v) => v.some((x) => x._id === after), 'the conversation created after the restart');
      assert.deepEqual(list.map((x) => x.title).sort(), ['after restart', 'before restart']);

      // The re-subscription used the original queryId and a fresh version chain.
      const reSent = rec.sockets.at(-1).sent;
      assert.equal(reSent[0].type, 'Connect');
      assert.ok(reSent[0].connectionCount >= 1, show(reSent[0]));
      assert.equal(reSent[0].sessionId, rec.sockets[0].sent[0].sessionId, 'same sessionId across reconnects');
      // Mutations keep working after the reconnect, with read-your-writes.
      const third = await c.mutation(api.conversations.create, { projectId, title: 'third' });
      assert.ok(w.lastValue().some((x) => x._id === third));
      // The restarted server's ts is not behind what the client saw before (wall-clock ns).
      assertProtocolInvariants(rec);
      noFatalLogs(log);
      await closeClient(c);
      c = null;
    } finally {
      if (c) await closeClient(c);
      if (s2) await s2.stop();
      else if (s1 && !s1.stopped) await s1.stop();
      if (s1) fs.rmSync(s1.dataDir, { recursive: true, force: true });
      await mock.stop();
    }
  });
});

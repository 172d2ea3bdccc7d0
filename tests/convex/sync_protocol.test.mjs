// The Convex sync protocol spoken raw over `ws` against the real binary
// (shared/spec/convex-protocol.md): Connect, ModifyQuerySet, Authenticate, Mutation, the
// version chain, mutation idempotency per (sessionId, requestId), AuthError, hostile frames.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  makeToken, expectOk, expectId, expectHealthy, newUser, client as restClient,
} from '../e2e/lib/server.mjs';
import { useMockedServer, newChat, postMessage, getMessages, words } from '../e2e/lib/mock.mjs';
import {
  openSync, connectMsg, decodeTs, assertNsClock, ZERO_TS, show, eventually,
} from './lib.mjs';

const ctx = useMockedServer({ mocks: 1 });
const UNAUTH = /unauthori[sz]ed|unauthenticated|not authenticated/i;

/**
 * Follows one socket's Transitions: asserts the version chain (startVersion == previous
 * endVersion, first from {0,0,"AAAAAAAAAAA="}), the modification shapes, and keeps the
 * current result of every query.
 */
function tracker() {
  const t = {
    version: { querySet: 0, identity: 0, ts: ZERO_TS },
    results: new Map(), // queryId -> {value} | {error, errorData}
    history: new Map(), // queryId -> [values pushed]
    transitions: [],
  };
  t.apply = (m) => {
    assert.equal(m.type, 'Transition', `expected a Transition, got ${show(m).slice(0, 600)}`);
    assert.ok(m.startVersion && m.endVersion, `Transition needs startVersion and endVersion: ${show(m)}`);
    assert.deepEqual(
      { ...m.startVersion, ts: decodeTs(m.startVersion.ts, 'startVersion.ts') },
      { ...t.version, ts: decodeTs(t.version.ts) },
      `startVersion must equal the previous endVersion ${show(t.version)}; got ${show(m.startVersion)}`);
    assert.equal(t.transitions.length === 0 ? m.startVersion.ts : ZERO_TS, ZERO_TS, 'first Transition starts at ts "AAAAAAAAAAA="');
    for (const k of ['querySet', 'identity']) {
      assert.ok(Number.isInteger(m.endVersion[k]) && m.endVersion[k] >= m.startVersion[k], `endVersion.${k}: ${show(m)}`);
    }
    assert.ok(decodeTs(m.endVersion.ts, 'endVersion.ts') >= decodeTs(m.startVersion.ts), `ts must not go down: ${show(m)}`);
    assert.ok(Array.isArray(m.modifications), `modifications must be an array: ${show(m)}`);
    for (const mod of m.modifications) {
      assert.ok(Number.isInteger(mod.queryId), `queryId: ${show(mod)}`);
      if (mod.type === 'QueryUpdated') {
        assert.ok('value' in mod, `QueryUpdated needs value: ${show(mod)}`);
        assert.ok(Array.isArray(mod.logLines), `QueryUpdated needs logLines []: ${show(mod)}`);
        const hist = t.history.get(mod.queryId) || [];
        hist.push(mod.value);
        t.history.set(mod.queryId, hist);
        t.results.set(mod.queryId, { value: mod.value });
      } else if (mod.type === 'QueryFailed') {
        assert.equal(typeof mod.errorMessage, 'string', `QueryFailed needs errorMessage: ${show(mod)}`);
        assert.ok(Array.isArray(mod.logLines), `QueryFailed needs logLines []: ${show(mod)}`);
        t.results.set(mod.queryId, { error: mod.errorMessage, errorData: mod.errorData });
      } else if (mod.type === 'QueryRemoved') {
        t.results.delete(mod.queryId);
      } else {
        assert.fail(`unknown modification type: ${show(mod)}`);
      }
    }
    t.version = m.endVersion;
    t.transitions.push(m);
    return m;
  };
  return t;
}

/** Opens a socket, sends Connect, and returns {conn, t}. */
async function session(opts = {}) {
  const conn = await openSync(ctx.server, opts.path);
  const sessionId = opts.sessionId || crypto.randomUUID();
  conn.send(connectMsg(sessionId, opts.connect));
  return { conn, t: tracker(), sessionId };
}

/** Authenticate{baseVersion: t.version.identity} and the identity-bumping Transition. */
async function authenticate(conn, t, token) {
  const base = t.version.identity;
  conn.send({ type: 'Authenticate', baseVersion: base, tokenType: 'User', value: token });
  const tr = t.apply(await conn.next());
  assert.equal(tr.endVersion.identity, base + 1, `Authenticate{baseVersion:${base}} is acknowledged by a Transition to identity ${base + 1}`);
  return tr;
}

/** ModifyQuerySet{n -> n+1} and its Transition. */
async function modify(conn, t, modifications) {
  const base = t.version.querySet;
  conn.send({ type: 'ModifyQuerySet', baseVersion: base, newVersion: base + 1, modifications });
  const tr = t.apply(await conn.next());
  assert.equal(tr.endVersion.querySet, base + 1, `ModifyQuerySet ${base}->${base + 1} must be answered by a Transition to querySet ${base + 1}`);
  return tr;
}

const add = (queryId, udfPath, args) => ({ type: 'Add', queryId, udfPath, args: [args], journal: null });

async function userWithProject(label = 'sp') {
  const user = newUser(label);
  const token = ctx.token(user);
  const rest = restClient(ctx.server, token);
  const projectId = expectOk(await rest.post('/api/projects', { name: label })).projectId;
  return { user, token, rest, projectId };
}

/** Sends a Mutation and returns [MutationResponse, the first Transition after it]. */
async function mutate(conn, t, requestId, udfPath, args) {
  conn.send({ type: 'Mutation', requestId, udfPath, args: [args] });
  let resp;
  for (;;) {
    const m = await conn.next();
    if (m.type === 'Transition') { t.apply(m); continue; }
    assert.equal(m.type, 'MutationResponse', `expected MutationResponse, got ${show(m).slice(0, 600)}`);
    resp = m;
    break;
  }
  assert.equal(resp.requestId, requestId);
  if (!resp.success) return [resp, null];
  const tr = t.apply(await conn.next('Transition'));
  return [resp, tr];
}

describe('sync: connect and query set', () => {
  test('Connect gets no reply; an empty ModifyQuerySet 0→1 gets a Transition from {0,0,"AAAAAAAAAAA="}', async () => {
    const { conn, t } = await session();
    const r = await conn.settle(400);
    assert.ok(r.timeout, `Connect expects no reply, got ${show(r)}`);
    const tr = await modify(conn, t, []);
    assert.deepEqual(tr.startVersion, { querySet: 0, identity: 0, ts: ZERO_TS });
    assert.equal(tr.endVersion.identity, 0);
    assert.deepEqual(tr.modifications, []);
    decodeTs(tr.endVersion.ts);
    await conn.close();
  });

  test('unauthenticated Add → QueryFailed with an "Unauthorized"-style error, no value', async () => {
    const { projectId } = await userWithProject();
    const { conn, t } = await session();
    const tr = await modify(conn, t, [add(0, 'conversations:getConversations', { projectId })]);
    assert.equal(tr.modifications.length, 1, show(tr));
    const [mod] = tr.modifications;
    assert.equal(mod.type, 'QueryFailed', show(mod));
    assert.equal(mod.queryId, 0);
    assert.match(mod.errorMessage, UNAUTH);
    await conn.close();
  });

  test('Authenticate (valid) → Transition to identity 1; Add/Remove are answered with QueryUpdated/QueryRemoved', async () => {
    const { token, projectId, user } = await userWithProject();
    const { conn, t } = await session();
    const a = await authenticate(conn, t, token);
    assert.deepEqual(a.startVersion, { querySet: 0, identity: 0, ts: ZERO_TS });
    assert.equal(a.endVersion.querySet, 0);
    const tr = await modify(conn, t, [add(0, 'conversations:getConversations', { projectId })]);
    assert.deepEqual(tr.modifications.map((m) => [m.type, m.queryId]), [['QueryUpdated', 0]]);
    assert.deepEqual(tr.modifications[0].value, []);
    assert.equal(tr.endVersion.identity, 1);
    const tr2 = await modify(conn, t, [add(1, 'projects:get', {}), { type: 'Remove', queryId: 0 }]);
    const kinds = tr2.modifications.map((m) => [m.type, m.queryId]).sort();
    assert.deepEqual(kinds, [['QueryRemoved', 0], ['QueryUpdated', 1]]);
    const projects = t.results.get(1).value;
    assert.deepEqual(projects.map((p) => [p._id, p.ownerId]), [[projectId, user]]);
    // Query paths are canonicalised: "projects.js:get" is "projects:get".
    const tr3 = await modify(conn, t, [add(2, 'projects.js:get', {})]);
    assert.deepEqual(tr3.modifications.map((m) => m.type), ['QueryUpdated']);
    assert.deepEqual(t.results.get(2).value, projects);
    await conn.close();
  });

  test('ModifyQuerySet before Authenticate: the query is re-run under the new identity', async () => {
    const { token, projectId } = await userWithProject();
    const { conn, t } = await session();
    conn.send({ type: 'ModifyQuerySet', baseVersion: 0, newVersion: 1, modifications: [add(0, 'conversations:getConversations', { projectId })] });
    conn.send({ type: 'Authenticate', baseVersion: 0, tokenType: 'User', value: token });
    while (!(t.version.querySet === 1 && t.version.identity === 1)) t.apply(await conn.next());
    assert.deepEqual(t.results.get(0), { value: [] }, `after auth the query has data: ${show(t.transitions)}`);
    await conn.close();
  });

  test('the version chain holds over a streamed reply; unchanged results are not re-sent', async () => {
    const { token, rest, projectId } = await userWithProject();
    const { conversationId } = await newChat(rest, { projectId });
    const { conn, t } = await session();
    await authenticate(conn, t, token);
    await modify(conn, t, [add(3, 'messages:getMessages', { conversationId }), add(4, 'conversations:getConversations', { projectId })]);
    assert.deepEqual(t.results.get(3), { value: [] });
    const text = words(24, 'v');
    await ctx.primary.script([{ type: 'text', text, chunks: 8, delayMs: 150 }]);
    const { messageId } = await postMessage(rest, conversationId, 'chain please');
    const done = () => {
      const r = t.results.get(3);
      return r && r.value && r.value.some((m) => m._id === messageId && m.status !== 'processing');
    };
    while (!done()) t.apply(await conn.next('Transition', { timeout: 20_000 }));
    const hist = t.history.get(3);
    const partial = new Set(hist.map((v) => v.find((m) => m._id === messageId)).filter((m) => m && m.status === 'processing' && m.content).map((m) => m.content));
    assert.ok(partial.size >= 3, `expected >= 3 pushed partial contents, saw ${partial.size}`);
    for (let i = 1; i < hist.length; i++) assert.notDeepEqual(hist[i], hist[i - 1], `push ${i} of messages:getMessages repeats the previous value`);
    // Data-change Transitions keep the query set and identity, and move ts forward.
    for (const tr of t.transitions.slice(2)) {
      assert.equal(tr.endVersion.querySet, 1);
      assert.equal(tr.endVersion.identity, 1);
    }
    const restList = await getMessages(rest, conversationId);
    // A Transition may still be on its way (e.g. usage); take them until the value settles.
    await eventually(async () => {
      while (conn.inbox.length) t.apply(conn.inbox.shift());
      return JSON.stringify(t.results.get(3).value) === JSON.stringify(await getMessages(rest, conversationId));
    }, { what: 'the pushed value to equal GET …/messages', detail: () => show([t.results.get(3).value, restList]) });
    await conn.close();
  });

  test('/api/sync and any version segment are accepted', async () => {
    for (const path of ['/api/sync', '/api/1.2.3/sync', '/api/0.0.0-alpha.1/sync']) {
      const { conn, t } = await session({ path });
      await modify(conn, t, []);
      await conn.close();
    }
  });

  test('an idle connection gets an application-level {"type":"Ping"} within about 15 s', async () => {
    const { conn } = await session();
    await eventually(() => conn.pings > 0 || conn.closed, { timeout: 22_000, interval: 100, what: 'a Ping message' });
    assert.equal(conn.closed, null, 'the server must not close an idle connection');
    assert.ok(conn.pings >= 1);
    await conn.close();
  });
});

describe('sync: mutations', () => {
  test('Mutation → MutationResponse (ts) then a Transition with endVersion.ts ≥ ts that already shows the write', async () => {
    const { token, projectId, rest } = await userWithProject();
    const { conn, t } = await session();
    await authenticate(conn, t, token);
    await modify(conn, t, [add(0, 'conversations:getConversations', { projectId })]);
    const [resp, tr] = await mutate(conn, t, 0, 'conversations:create', { projectId, title: 'raw chat' });
    assert.equal(resp.success, true, show(resp));
    expectId(resp.result, 'cnv', 'MutationResponse.result');
    const ts = decodeTs(resp.ts, 'MutationResponse.ts');
    assertNsClock(resp.ts, 'MutationResponse.ts');
    assert.ok(Array.isArray(resp.logLines), `MutationResponse needs logLines []: ${show(resp)}`);
    assert.ok(decodeTs(tr.endVersion.ts) >= ts, `the Transition after MutationResponse must reach its ts: ${show(tr.endVersion)} vs ${resp.ts}`);
    const list = t.results.get(0).value;
    assert.ok(list.some((c) => c._id === resp.result && c.title === 'raw chat'), `read-your-writes: ${show(list)}`);
    // A second mutation gets a later ts.
    const [resp2, tr2] = await mutate(conn, t, 1, 'conversations:create', { projectId, title: 'second' });
    assert.ok(decodeTs(resp2.ts) > ts, 'each commit gets a new, larger ts');
    assert.ok(decodeTs(tr2.endVersion.ts) >= decodeTs(resp2.ts));
    // The REST side sees both.
    assert.equal(expectOk(await rest.get(`/api/projects/${projectId}/conversations`)).length, 2);
    await conn.close();
  });

  test('a failing mutation: success:false, result is the error message, no ts; unknown function likewise', async () => {
    const { token, projectId } = await userWithProject();
    const { conn, t } = await session();
    await authenticate(conn, t, token);
    const cases = [
      ['conversations:create', { projectId: 'abc', title: 'x' }],
      ['conversations:create', { projectId: projectId.replace(/^prj_/, 'cnv_'), title: 'x' }],
      ['nope:nothing', {}],
    ];
    for (const [i, [udfPath, args]] of cases.entries()) {
      const [resp] = await mutate(conn, t, i, udfPath, args);
      assert.equal(resp.success, false, `${udfPath} ${show(args)} must fail: ${show(resp)}`);
      assert.equal(typeof resp.result, 'string');
      assert.ok(resp.result.length > 0);
      assert.ok(resp.ts === null || resp.ts === undefined, `a failed mutation has no ts: ${show(resp)}`);
    }
    // Unauthenticated mutation on a fresh session fails too.
    const s2 = await session();
    const [resp] = await mutate(s2.conn, s2.t, 0, 'conversations:create', { projectId, title: 'anon' });
    assert.equal(resp.success, false);
    assert.match(resp.result, UNAUTH);
    await s2.conn.close();
    await conn.close();
  });

  test('re-sending a Mutation with the same requestId on a new socket of the same session returns the stored result', async () => {
    const { token, projectId, rest } = await userWithProject();
    const sessionId = crypto.randomUUID();
    const args = { projectId, title: 'idempotent' };

    const a = await session({ sessionId });
    await authenticate(a.conn, a.t, token);
    const [r1, tr1] = await mutate(a.conn, a.t, 0, 'conversations:create', args);
    assert.equal(r1.success, true, show(r1));
    assert.ok(decodeTs(tr1.endVersion.ts) >= decodeTs(r1.ts));
    await a.conn.close();

    // The client reconnects: same sessionId, connectionCount 1, same requestId re-sent.
    const b = await session({ sessionId, connect: { connectionCount: 1, lastCloseReason: 'ConnectionLost', maxObservedTimestamp: tr1.endVersion.ts } });
    await authenticate(b.conn, b.t, token);
    const [r2, tr2] = await mutate(b.conn, b.t, 0, 'conversations:create', args);
    assert.deepEqual({ success: r2.success, result: r2.result, ts: r2.ts }, { success: true, result: r1.result, ts: r1.ts },
      'the duplicate gets the stored response (same result, same ts)');
    assert.ok(tr2 && decodeTs(tr2.endVersion.ts) >= decodeTs(r2.ts), 'and a Transition reaching that ts');
    let list = expectOk(await rest.get(`/api/projects/${projectId}/conversations`));
    assert.deepEqual(list.map((c) => c.title), ['idempotent'], 'the mutation ran once');
    // The next requestId on the same session is a new mutation.
    const [r3] = await mutate(b.conn, b.t, 1, 'conversations:create', args);
    assert.notEqual(r3.result, r1.result);
    await b.conn.close();

    // Another session with the same requestId is not a duplicate.
    const c = await session();
    await authenticate(c.conn, c.t, token);
    const [r4] = await mutate(c.conn, c.t, 0, 'conversations:create', args);
    assert.equal(r4.success, true);
    assert.notEqual(r4.result, r1.result, 'dedupe is per (sessionId, requestId), not per requestId');
    await c.conn.close();
    list = expectOk(await rest.get(`/api/projects/${projectId}/conversations`));
    assert.equal(list.length, 3);
  });

  test('Action → ActionResponse with success:false (there are no actions), the socket stays usable', async () => {
    const { token } = await userWithProject();
    const { conn, t } = await session();
    await authenticate(conn, t, token);
    conn.send({ type: 'Action', requestId: 0, udfPath: 'messages:send', args: [{}] });
    const resp = await conn.next('ActionResponse');
    assert.equal(resp.requestId, 0);
    assert.equal(resp.success, false);
    assert.equal(typeof resp.result, 'string');
    await modify(conn, t, []);
    await conn.close();
  });
});

describe('sync: auth errors', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const bad = {
    garbage: () => ({ tokenType: 'User', value: 'garbage' }),
    forged: (u) => ({ tokenType: 'User', value: makeToken(u, 'some-other-secret-some-other-secret') }),
    expired: (u) => ({ tokenType: 'User', value: ctx.token(u, { iat: now() - 7200, exp: now() - 3600 }) }),
    'no sub': () => ({ tokenType: 'User', value: ctx.token(undefined, { sub: undefined }) }),
    admin: () => ({ tokenType: 'Admin', value: 'admin-key' }),
  };
  for (const [what, mk] of Object.entries(bad)) {
    test(`${what} Authenticate → AuthError {baseVersion:0, authUpdateAttempted:true}, then the socket closes`, async () => {
      const { conn } = await session();
      conn.send({ type: 'Authenticate', baseVersion: 0, ...mk(newUser('bad')) });
      const m = await conn.expect('AuthError');
      assert.equal(m.baseVersion, 0);
      assert.equal(m.authUpdateAttempted, true);
      assert.equal(typeof m.error, 'string');
      assert.ok(m.error.length > 0);
      const closed = await conn.waitClosed(5000);
      assert.ok(closed, 'the server closes the socket after AuthError');
      assert.notEqual(closed.code, 1011, 'not an internal error');
    });
  }

  test('a bad token after a good one → AuthError with baseVersion 1', async () => {
    const { token } = await userWithProject();
    const { conn, t } = await session();
    await authenticate(conn, t, token);
    conn.send({ type: 'Authenticate', baseVersion: 1, tokenType: 'User', value: 'garbage' });
    const m = await conn.expect('AuthError');
    assert.deepEqual([m.baseVersion, m.authUpdateAttempted], [1, true]);
    assert.ok(await conn.waitClosed(5000));
  });

  test('a second valid Authenticate (refresh) and then tokenType None: identity 2, 3; queries follow the identity', async () => {
    const { token, user, projectId } = await userWithProject();
    const { conn, t } = await session();
    await authenticate(conn, t, token);
    await modify(conn, t, [add(0, 'conversations:getConversations', { projectId })]);
    assert.deepEqual(t.results.get(0), { value: [] });
    const refreshed = makeToken(user, ctx.server.secret, { nonce: 'refresh' });
    const r = await authenticate(conn, t, refreshed);
    assert.equal(r.endVersion.identity, 2);
    assert.deepEqual(r.modifications, [], 'same user: the result did not change, so it is not re-sent');
    conn.send({ type: 'Authenticate', baseVersion: 2, tokenType: 'None' });
    const n = t.apply(await conn.next());
    assert.equal(n.endVersion.identity, 3);
    assert.ok(t.results.get(0).error, `after clearing auth the query fails: ${show(n)}`);
    assert.match(t.results.get(0).error, UNAUTH);
    await conn.close();
  });
});

describe('sync: hostile input', () => {
  const cases = [
    ['malformed JSON', '{"type":'],
    ['not an object', '[1,2,3]'],
    ['unknown type', '{"type":"Bogus","x":1}'],
    ['no type', '{"hello":"world"}'],
    ['Mutation without fields', '{"type":"Mutation"}'],
    ['ModifyQuerySet with a bad Add', '{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1,"modifications":[{"type":"Add"}]}'],
    ['Authenticate with a wrong baseVersion', '{"type":"Authenticate","baseVersion":7,"tokenType":"User","value":"x"}'],
    ['huge number', '{"type":"ModifyQuerySet","baseVersion":1e400,"newVersion":1,"modifications":[]}'],
    ['binary frame', Buffer.from([0, 1, 2, 255])],
  ];
  for (const [what, payload] of cases) {
    test(`${what}: no crash (ignored, FatalError or close); the server keeps serving`, async () => {
      const { conn } = await session();
      conn.ws.send(payload);
      const r = await conn.settle(1500);
      if (r.message) {
        assert.ok(['FatalError', 'AuthError'].includes(r.message.type), `unexpected reply to ${what}: ${show(r.message)}`);
      }
      await conn.close();
      await expectHealthy(ctx.server, what);
      const s = await session();
      await modify(s.conn, s.t, []);
      await s.conn.close();
    });
  }

  test('ModifyQuerySet with a wrong baseVersion → FatalError or close (never a Transition)', async () => {
    const { conn } = await session();
    conn.send({ type: 'ModifyQuerySet', baseVersion: 5, newVersion: 6, modifications: [] });
    const r = await conn.settle(5000);
    assert.ok(!r.timeout, 'a version mismatch must not be silently ignored');
    if (r.message) assert.equal(r.message.type, 'FatalError', show(r.message));
    await conn.close();
    await expectHealthy(ctx.server, 'after BaseVersionMismatch');
  });
});

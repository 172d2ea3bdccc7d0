// A sync session lives no longer than its token: when the token it authenticated with expires
// (plus the 30 s leeway every route allows) and no fresh token replaced it, the server sends
// AuthError{authUpdateAttempted:false} and closes, so an expired token never keeps receiving
// data. A refreshed token before that point keeps the session going.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useMockedServer, newChat } from '../e2e/lib/mock.mjs';
import { openSync, connectMsg } from './lib.mjs';

const ctx = useMockedServer({ mocks: 1 });
const now = () => Math.floor(Date.now() / 1000);

async function authenticated(token, conversationId, sessionId) {
  const conn = await openSync(ctx.server);
  conn.send(connectMsg(sessionId));
  conn.send({ type: 'Authenticate', baseVersion: 0, tokenType: 'User', value: token });
  conn.send({
    type: 'ModifyQuerySet', baseVersion: 0, newVersion: 1,
    modifications: [{ type: 'Add', queryId: 0, udfPath: 'messages:getMessages', args: [{ conversationId }] }],
  });
  let t = await conn.expect('Transition');
  while (t.endVersion.querySet < 1) t = await conn.expect('Transition');
  assert.equal(t.endVersion.identity, 1);
  return conn;
}

test('a session whose token expires gets AuthError (authUpdateAttempted:false) and is closed', async () => {
  const user = 'expiring-user';
  const { conversationId } = await newChat(ctx.client(user));
  // Expired 27 s ago: still inside the 30 s leeway, so accepted now and refused 3 s later.
  const token = ctx.token(user, { iat: now() - 60, exp: now() - 27 });
  const conn = await authenticated(token, conversationId, 'expiring-session');
  const err = await conn.next('AuthError', { timeout: 10_000 });
  assert.equal(err.authUpdateAttempted, false);
  assert.equal(err.baseVersion, 0);
  assert.match(err.error, /expired/i);
  const closed = await conn.waitClosed(5_000);
  assert.ok(closed, 'the socket is closed after the AuthError');
});

test('re-authenticating with a fresh token before expiry keeps the session', async () => {
  const user = 'refreshing-user';
  const { conversationId } = await newChat(ctx.client(user));
  const conn = await authenticated(ctx.token(user, { iat: now() - 60, exp: now() - 27 }),
    conversationId, 'refreshing-session');
  conn.send({ type: 'Authenticate', baseVersion: 1, tokenType: 'User', value: ctx.token(user) });
  const t = await conn.expect('Transition');
  assert.equal(t.endVersion.identity, 2);
  const r = await conn.settle(6_000);  // past the first token's expiry
  assert.ok(r.timeout, `nothing arrives and the socket stays open: ${JSON.stringify(r)}`);
  await conn.close();
});

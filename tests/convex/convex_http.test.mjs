// ConvexHttpClient (convex/browser, 1.48.0) against the real binary: POST /api/query,
// /api/mutation, /api/query_ts + /api/query_at_ts (consistentQuery), /api/action, errors; plus
// the raw wire shapes of those routes (protocol §8).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConvexHttpClient } from 'convex/browser';
import { anyApi, makeFunctionReference } from 'convex/server';
import {
  useServer, client as restClient, expectOk, expectId, expectHealthy, newUser, request, makeToken,
} from '../e2e/lib/server.mjs';
import { decodeTs, assertNsClock, show } from './lib.mjs';

const api = anyApi;
const ctx = useServer();

function httpClient(token) {
  const c = new ConvexHttpClient(ctx.server.url, { logger: false });
  if (token) c.setAuth(token);
  return c;
}

async function convexPost(route, body, token) {
  return request(ctx.server, 'POST', route, {
    token,
    body,
    headers: { 'convex-client': 'npm-1.48.0' },
  });
}

describe('ConvexHttpClient', () => {
  test('mutation projects:create, then query projects:get / projects:getById', async () => {
    const user = newUser('http');
    const token = ctx.token(user);
    const c = httpClient(token);
    const projectId = await c.mutation(api.projects.create, { name: 'Via HTTP' });
    expectId(projectId, 'prj', 'projects:create result');
    const projects = await c.query(api.projects.get, {});
    assert.ok(Array.isArray(projects), show(projects));
    assert.equal(projects.length, 1, show(projects));
    assert.equal(projects[0]._id, projectId);
    assert.equal(projects[0].name, 'Via HTTP');
    assert.equal(projects[0].ownerId, user);
    // The REST API sees the same document.
    const rest = restClient(ctx.server, token);
    assert.deepEqual(expectOk(await rest.get('/api/projects')), projects);
    // The alias projects:getById.
    const byId = await c.query(api.projects.getById, { id: projectId });
    assert.equal(byId._id, projectId);
  });

  test('consistentQuery (query_ts without auth, then query_at_ts) gives the same answers as query', async () => {
    const token = ctx.token(newUser('http'));
    const c = httpClient(token);
    const projectId = await c.mutation(api.projects.create, { name: 'consistent' });
    const conv = await c.mutation(api.conversations.create, { projectId, title: 'c1' });
    const projects = await c.query(api.projects.get, {});
    const convs = await c.query(api.conversations.getConversations, { projectId });
    assert.deepEqual(convs.map((x) => x._id), [conv]);
    // One client pins one timestamp for all its consistent queries.
    assert.deepEqual(await c.consistentQuery(api.projects.get, {}), projects);
    assert.deepEqual(await c.consistentQuery(api.conversations.getConversations, { projectId }), convs);
  });

  test('conversations: create by mutation, list by query (seed name and alias), messages empty', async () => {
    const token = ctx.token(newUser('http'));
    const c = httpClient(token);
    const projectId = await c.mutation(api.projects.create, { name: 'chats' });
    const a = await c.mutation(api.conversations.create, { projectId, title: 'one' });
    const b = await c.mutation(api.conversations.create, { projectId, title: 'two' });
    expectId(a, 'cnv');
    expectId(b, 'cnv');
    const list = await c.query(api.conversations.getConversations, { projectId });
    assert.deepEqual(list.map((x) => x._id), [b, a], 'newest first');
    assert.deepEqual(await c.query(api.conversations.getByProject, { projectId }), list);
    assert.deepEqual(await c.query(api.messages.getMessages, { conversationId: a }), []);
  });

  test('errors: unknown function, no token, bad token, foreign conversation all reject', async () => {
    const owner = ctx.token(newUser('owner'));
    const oc = httpClient(owner);
    const projectId = await oc.mutation(api.projects.create, { name: 'owned' });
    const conversationId = await oc.mutation(api.conversations.create, { projectId, title: 't' });

    await assert.rejects(oc.query(makeFunctionReference('nope:nothing'), {}), /could not find|unknown|not found/i);
    await assert.rejects(oc.mutation(makeFunctionReference('nope:nothing'), {}), /could not find|unknown|not found/i);

    const anon = httpClient();
    await assert.rejects(anon.query(api.conversations.getConversations, { projectId }));
    await assert.rejects(anon.mutation(api.projects.create, { name: 'anon' }));
    await assert.rejects(anon.query(api.projects.get, {}));

    const forged = httpClient(makeToken(newUser('x'), 'wrong-secret-wrong-secret-wrong'));
    await assert.rejects(forged.query(api.projects.get, {}));
    const garbage = httpClient('garbage');
    await assert.rejects(garbage.query(api.projects.get, {}));

    const other = httpClient(ctx.token(newUser('other')));
    await assert.rejects(other.query(api.messages.getMessages, { conversationId }), /Conversation not found/);
    await assert.rejects(other.mutation(api.conversations.create, { projectId, title: 'sneaky' }), /not found/i);
    await assert.rejects(other.query(api.messages.getMessages, { conversationId: projectId }));
    assert.equal((await oc.query(api.conversations.getConversations, { projectId })).length, 1, 'nothing created by others');
    await expectHealthy(ctx.server, 'after HTTP API errors');
  });

  test('action(...) rejects with a clear message (there are no actions)', async () => {
    const c = httpClient(ctx.token(newUser('act')));
    await assert.rejects(c.action(makeFunctionReference('messages:send'), { x: 1 }), (e) => {
      assert.ok(e instanceof Error);
      assert.match(e.message, /action/i, `the error should say actions are not supported: ${e.message}`);
      return true;
    });
  });
});

describe('HTTP API wire format', () => {
  test('POST /api/query: 200 {status:"success", value, logLines:[]}', async () => {
    const token = ctx.token(newUser('wire'));
    const res = await convexPost('/api/query', { path: 'projects:get', format: 'convex_encoded_json', args: [{}] }, token);
    assert.equal(res.status, 200, res.text);
    assert.match(res.headers.get('content-type') || '', /application\/json/);
    assert.deepEqual(res.json, { status: 'success', value: [], logLines: [] });
  });

  test('POST /api/mutation: success value is the id; a failing function is 560 {status:"error", errorMessage}', async () => {
    const token = ctx.token(newUser('wire'));
    const ok = await convexPost('/api/mutation', { path: 'projects:create', format: 'convex_encoded_json', args: [{ name: 'wire' }] }, token);
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.json.status, 'success');
    expectId(ok.json.value, 'prj');
    assert.deepEqual(ok.json.logLines, []);

    const bad = await convexPost('/api/query', { path: 'messages:getMessages', format: 'convex_encoded_json', args: [{ conversationId: ok.json.value.replace(/^prj_/, 'cnv_') }] }, token);
    assert.equal(bad.status, 560, `a function error is HTTP 560: ${bad.text}`);
    assert.equal(bad.json.status, 'error', bad.text);
    assert.equal(typeof bad.json.errorMessage, 'string');
    assert.ok(bad.json.errorMessage.length > 0);
  });

  test('POST /api/query_ts answers {ts} (encoded u64) with or without a token; query_at_ts uses it', async () => {
    const token = ctx.token(newUser('wire'));
    // ConvexHttpClient.consistentQuery sends query_ts WITHOUT an Authorization header (convex
    // 1.48.0 http_client.ts getTimestampInner), so it must not require one.
    const anon = await convexPost('/api/query_ts', undefined, undefined);
    assert.equal(anon.status, 200, `query_ts without a token: ${anon.text}`);
    decodeTs(anon.json.ts, 'query_ts (no token)');
    const res = await convexPost('/api/query_ts', undefined, token);
    assert.equal(res.status, 200, res.text);
    decodeTs(res.json.ts, 'query_ts');
    assertNsClock(res.json.ts, 'query_ts');
    const at = await convexPost('/api/query_at_ts', { path: 'projects:get', format: 'convex_encoded_json', args: [{}], ts: res.json.ts }, token);
    assert.equal(at.status, 200, at.text);
    assert.deepEqual(at.json, { status: 'success', value: [], logLines: [] });
  });

  test('module paths: "projects:get" and "projects.js:get" are the same query; a path without ":" means :default', async () => {
    const token = ctx.token(newUser('wire'));
    const a = await convexPost('/api/query', { path: 'projects.js:get', format: 'convex_encoded_json', args: [{}] }, token);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(a.json.value, []);
    const d = await convexPost('/api/query', { path: 'projects', format: 'convex_encoded_json', args: [{}] }, token);
    assert.notEqual(d.status, 200, `"projects" means "projects:default", which does not exist: ${d.text}`);
  });
});

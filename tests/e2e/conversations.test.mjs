// Conversations: create, default title, list newest first, get, messages (empty), id rules.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, expectStatus, expectOk, expectId, fakeId, retag, newUser, sleep, describeRes,
} from './lib/server.mjs';

const ctx = useServer();

async function setup() {
  const c = ctx.client(newUser());
  const projectId = expectOk(await c.post('/api/projects', { name: 'conv' }), 'create project').projectId;
  const create = async (body) => expectOk(await c.post('/api/conversations', { projectId, ...body }), 'create conversation').conversationId;
  return { c, projectId, create };
}

describe('create', () => {
  test('POST /api/conversations {projectId} -> 200 {conversationId}; default title', async () => {
    const s = await setup();
    const t0 = Date.now();
    const res = await s.c.post('/api/conversations', { projectId: s.projectId });
    const body = expectOk(res, 'POST /api/conversations');
    assert.deepEqual(Object.keys(body), ['conversationId'], `answer should be {conversationId}, got ${describeRes(res)}`);
    expectId(body.conversationId, 'cnv', 'conversationId');
    const doc = expectOk(await s.c.get(`/api/conversations/${body.conversationId}`), 'GET conversation');
    assert.equal(doc._id, body.conversationId);
    assert.equal(doc.projectId, s.projectId);
    assert.equal(doc.title, 'New conversation');
    assert.equal(typeof doc._creationTime, 'number');
    assert.ok(Math.abs(doc._creationTime - t0) < 60_000, `_creationTime in ms near now, got ${doc._creationTime}`);
    assert.equal(typeof doc.updatedAt, 'number');
  });

  test('title is kept when given (unicode too)', async () => {
    const s = await setup();
    const id = await s.create({ title: 'Refactor 🚀 the «parser»' });
    assert.equal(expectOk(await s.c.get(`/api/conversations/${id}`)).title, 'Refactor 🚀 the «parser»');
  });

  test('absent title gives the default title', async () => {
    const s = await setup();
    const id = await s.create({});
    assert.equal(expectOk(await s.c.get(`/api/conversations/${id}`)).title, 'New conversation');
  });

  for (const [what, raw] of [
    ['missing projectId', '{}'],
    ['projectId: 5', '{"projectId":5}'],
    ['projectId: null', '{"projectId":null}'],
    ['malformed JSON', '{"projectId":'],
    ['body an array', '[]'],
    ['empty body', ''],
  ]) {
    test(`POST /api/conversations with ${what} -> 400`, async () => {
      const s = await setup();
      expectStatus(await s.c.req('POST', '/api/conversations', { raw }), 400, `POST ${raw}`);
    });
  }

  test('title of the wrong type -> 400', async () => {
    const s = await setup();
    expectStatus(await s.c.post('/api/conversations', { projectId: s.projectId, title: 5 }), 400, 'title: 5');
    expectStatus(await s.c.post('/api/conversations', { projectId: s.projectId, title: ['x'] }), 400, 'title: [..]');
    assert.deepEqual(expectOk(await s.c.get(`/api/projects/${s.projectId}/conversations`)), []);
  });

  test('malformed projectId -> 400; id of another table -> 400; unknown project -> 404', async () => {
    const s = await setup();
    expectStatus(await s.c.post('/api/conversations', { projectId: 'nope' }), 400, 'malformed');
    expectStatus(await s.c.post('/api/conversations', { projectId: '' }), 400, 'empty');
    expectStatus(await s.c.post('/api/conversations', { projectId: retag(s.projectId, 'cnv') }), 400, 'cnv id');
    expectStatus(await s.c.post('/api/conversations', { projectId: retag(s.projectId, 'fil') }), 400, 'fil id');
    expectStatus(await s.c.post('/api/conversations', { projectId: fakeId('prj') }), 404, 'unknown project');
  });
});

describe('list and get', () => {
  test('GET /api/projects/:id/conversations: bare array, newest first, only this project', async () => {
    const s = await setup();
    const other = expectOk(await s.c.post('/api/projects', { name: 'other' })).projectId;
    assert.deepEqual(expectOk(await s.c.get(`/api/projects/${s.projectId}/conversations`)), [], 'empty at first');
    const ids = [];
    for (let i = 0; i < 5; i++) {
      ids.push(await s.create({ title: `c${i}` }));
      if (i % 2) await sleep(2);
    }
    expectOk(await s.c.post('/api/conversations', { projectId: other, title: 'elsewhere' }));
    const list = expectOk(await s.c.get(`/api/projects/${s.projectId}/conversations`));
    assert.ok(Array.isArray(list));
    assert.deepEqual(list.map((c) => c._id), [...ids].reverse(), 'newest first');
    assert.deepEqual(list.map((c) => c.title), ['c4', 'c3', 'c2', 'c1', 'c0']);
    for (const c of list) {
      assert.equal(c.projectId, s.projectId);
      assert.equal(typeof c._creationTime, 'number');
      assert.equal(typeof c.updatedAt, 'number');
    }
    const otherList = expectOk(await s.c.get(`/api/projects/${other}/conversations`));
    assert.deepEqual(otherList.map((c) => c.title), ['elsewhere']);
  });

  test('GET unknown conversation -> 404; malformed -> 400; other table -> 400', async () => {
    const s = await setup();
    const id = await s.create({});
    expectStatus(await s.c.get(`/api/conversations/${fakeId('cnv')}`), 404, 'unknown');
    expectStatus(await s.c.get(`/api/conversations/${fakeId('cnv')}/messages`), 404, 'messages of unknown');
    for (const bad of ['x', 'cnv_', 'cnv_short', retag(id, 'prj'), retag(id, 'msg'), retag(id, 'fil')]) {
      expectStatus(await s.c.get(`/api/conversations/${bad}`), 400, `GET /api/conversations/${bad}`);
      expectStatus(await s.c.get(`/api/conversations/${bad}/messages`), 400, `GET /api/conversations/${bad}/messages`);
    }
  });

  test('GET conversations of unknown project -> 404; malformed -> 400', async () => {
    const s = await setup();
    expectStatus(await s.c.get(`/api/projects/${fakeId('prj')}/conversations`), 404);
    expectStatus(await s.c.get('/api/projects/zz/conversations'), 400);
  });
});

describe('messages', () => {
  test('GET /api/conversations/:id/messages of a new conversation -> 200 []', async () => {
    const s = await setup();
    const id = await s.create({});
    const res = await s.c.get(`/api/conversations/${id}/messages`);
    assert.deepEqual(expectOk(res, 'GET messages'), [], 'bare empty array');
    assert.match(res.headers.get('content-type') || '', /application\/json/i);
  });
});

describe('deletion', () => {
  test('deleting the project makes its conversations 404', async () => {
    const s = await setup();
    const a = await s.create({});
    const b = await s.create({ title: 'b' });
    expectOk(await s.c.del(`/api/projects/${s.projectId}`));
    for (const id of [a, b]) {
      expectStatus(await s.c.get(`/api/conversations/${id}`), 404);
      expectStatus(await s.c.get(`/api/conversations/${id}/messages`), 404);
    }
    expectStatus(await s.c.get(`/api/projects/${s.projectId}/conversations`), 404);
  });
});

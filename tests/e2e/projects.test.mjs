// Projects: create (both routes), list newest first, get, rename, delete (both routes), cascade.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, expectStatus, expectOk, expectSuccess, expectId, fakeId, retag, newUser, sleep, describeRes,
} from './lib/server.mjs';

const ctx = useServer();
const user = () => ctx.client(newUser());

async function createProject(c, name = 'Project') {
  const res = await c.post('/api/projects', { name });
  const body = expectOk(res, `POST /api/projects {name:${JSON.stringify(name)}}`);
  return body.projectId;
}

describe('create', () => {
  test('POST /api/projects {name} -> 200 {projectId}', async () => {
    const c = user();
    const res = await c.post('/api/projects', { name: 'Alpha' });
    const body = expectOk(res, 'POST /api/projects');
    assert.deepEqual(Object.keys(body), ['projectId'], `answer should be exactly {projectId}, got ${describeRes(res)}`);
    expectId(body.projectId, 'prj', 'projectId');
  });

  test('POST /api/projects/create {name} -> 200 {projectId} (alias)', async () => {
    const c = user();
    const res = await c.post('/api/projects/create', { name: 'Beta' });
    const body = expectOk(res, 'POST /api/projects/create');
    expectId(body.projectId, 'prj', 'projectId');
    const doc = expectOk(await c.get(`/api/projects/${body.projectId}`));
    assert.equal(doc.name, 'Beta');
  });

  test('project document shape', async () => {
    const sub = newUser();
    const c = ctx.client(sub);
    const t0 = Date.now();
    const id = await createProject(c, 'Shape');
    const t1 = Date.now();
    const doc = expectOk(await c.get(`/api/projects/${id}`), 'GET project');
    assert.equal(doc._id, id);
    assert.equal(doc.name, 'Shape');
    assert.equal(doc.ownerId, sub);
    assert.equal(typeof doc._creationTime, 'number', '_creationTime must be a number');
    assert.ok(doc._creationTime >= t0 - 1000 && doc._creationTime <= t1 + 1000,
      `_creationTime should be ms since epoch near ${t0}, got ${doc._creationTime}`);
    assert.equal(typeof doc.updatedAt, 'number', 'updatedAt must be a number');
    assert.ok(doc.updatedAt >= t0 - 1000 && doc.updatedAt <= t1 + 1000, `updatedAt ms near now, got ${doc.updatedAt}`);
  });

  test('unicode names round-trip', async () => {
    const c = user();
    const name = 'Projet ✓ 日本語 🚀 "quoted" \\ back';
    const id = await createProject(c, name);
    assert.equal(expectOk(await c.get(`/api/projects/${id}`)).name, name);
  });

  test('two projects may share a name', async () => {
    const c = user();
    const a = await createProject(c, 'Same');
    const b = await createProject(c, 'Same');
    assert.notEqual(a, b);
  });

  test('ids are unique across many creates', async () => {
    const c = user();
    const ids = await Promise.all(Array.from({ length: 30 }, (_, i) => createProject(c, `p${i}`)));
    assert.equal(new Set(ids).size, ids.length);
    const list = expectOk(await c.get('/api/projects'));
    assert.equal(list.length, 30);
  });

  for (const [what, raw] of [
    ['missing name', '{}'],
    ['name: 5', '{"name":5}'],
    ['name: null', '{"name":null}'],
    ['name: {}', '{"name":{}}'],
    ['name: []', '{"name":["a"]}'],
    ['name: true', '{"name":true}'],
    ['body a JSON array', '[{"name":"x"}]'],
    ['body a JSON string', '"x"'],
    ['body null', 'null'],
    ['empty body', ''],
    ['malformed JSON', '{"name":'],
    ['trailing garbage', '{"name":"x"} xyz'],
  ]) {
    test(`POST /api/projects with ${what} -> 400`, async () => {
      const c = user();
      expectStatus(await c.req('POST', '/api/projects', { raw }), 400, `POST /api/projects ${raw}`);
      expectStatus(await c.req('POST', '/api/projects/create', { raw }), 400, `POST /api/projects/create ${raw}`);
      assert.deepEqual(expectOk(await c.get('/api/projects')), [], 'nothing must have been created');
    });
  }
});

describe('list and get', () => {
  test('GET /api/projects: bare array, newest first', async () => {
    const c = user();
    const a = await createProject(c, 'A');
    await sleep(3);
    const b = await createProject(c, 'B');
    await sleep(3);
    const d = await createProject(c, 'C');
    const list = expectOk(await c.get('/api/projects'));
    assert.ok(Array.isArray(list), 'list must be a bare array');
    assert.deepEqual(list.map((p) => p._id), [d, b, a], 'projects newest first');
    assert.deepEqual(list.map((p) => p.name), ['C', 'B', 'A']);
    for (let i = 1; i < list.length; i++) {
      assert.ok(list[i - 1]._creationTime >= list[i]._creationTime, '_creationTime descending');
    }
  });

  test('newest first holds for creates in the same millisecond', async () => {
    const c = user();
    const ids = [];
    for (let i = 0; i < 10; i++) ids.push(await createProject(c, `n${i}`));
    const list = expectOk(await c.get('/api/projects'));
    assert.deepEqual(list.map((p) => p._id), ids.reverse(), 'strictly reverse creation order');
  });

  test('renaming does not change the list order (ordered by _creationTime)', async () => {
    const c = user();
    const a = await createProject(c, 'A');
    await sleep(3);
    const b = await createProject(c, 'B');
    await sleep(3);
    expectSuccess(await c.patch(`/api/projects/${a}`, { name: 'A2' }));
    const list = expectOk(await c.get('/api/projects'));
    assert.deepEqual(list.map((p) => p._id), [b, a]);
  });

  test('GET unknown but well-formed id -> 404', async () => {
    const c = user();
    expectStatus(await c.get(`/api/projects/${fakeId('prj')}`), 404, 'unknown project');
  });

  for (const bad of ['abc', 'prj_', 'prj_x', '123', '%00', 'prj_%2e%2e', 'prj_' + 'a'.repeat(500)]) {
    test(`GET /api/projects/${bad} (malformed id) -> 400`, async () => {
      const c = user();
      expectStatus(await c.get(`/api/projects/${bad}`), 400, `GET /api/projects/${bad}`);
    });
  }

  test('ids of other tables are rejected with 400', async () => {
    const c = user();
    const id = await createProject(c);
    for (const tag of ['cnv', 'msg', 'fil', 'run']) {
      const other = retag(id, tag);
      expectStatus(await c.get(`/api/projects/${other}`), 400, `GET /api/projects/${other}`);
      expectStatus(await c.patch(`/api/projects/${other}`, { name: 'x' }), 400, `PATCH /api/projects/${other}`);
      expectStatus(await c.del(`/api/projects/${other}`), 400, `DELETE /api/projects/${other}`);
      expectStatus(await c.get(`/api/projects/${other}/files`), 400, `GET /api/projects/${other}/files`);
      expectStatus(await c.get(`/api/projects/${other}/conversations`), 400, `GET /api/projects/${other}/conversations`);
    }
  });
});

describe('rename', () => {
  test('PATCH {name} -> 200 {success:true}; name and updatedAt change', async () => {
    const c = user();
    const id = await createProject(c, 'Old');
    const before = expectOk(await c.get(`/api/projects/${id}`));
    await sleep(5);
    expectSuccess(await c.patch(`/api/projects/${id}`, { name: 'New' }), 'PATCH project');
    const after = expectOk(await c.get(`/api/projects/${id}`));
    assert.equal(after.name, 'New');
    assert.ok(after.updatedAt > before.updatedAt, `rename must bump updatedAt (${before.updatedAt} -> ${after.updatedAt})`);
    assert.equal(after._creationTime, before._creationTime, '_creationTime must not change');
    assert.equal(after.ownerId, before.ownerId);
  });

  for (const [what, raw] of [['missing name', '{}'], ['name: 5', '{"name":5}'], ['name: null', '{"name":null}'], ['malformed JSON', '{"name"']]) {
    test(`PATCH with ${what} -> 400, nothing changes`, async () => {
      const c = user();
      const id = await createProject(c, 'Keep');
      expectStatus(await c.req('PATCH', `/api/projects/${id}`, { raw }), 400, `PATCH ${raw}`);
      assert.equal(expectOk(await c.get(`/api/projects/${id}`)).name, 'Keep');
    });
  }

  test('PATCH unknown project -> 404; malformed -> 400', async () => {
    const c = user();
    expectStatus(await c.patch(`/api/projects/${fakeId('prj')}`, { name: 'x' }), 404);
    expectStatus(await c.patch('/api/projects/nope', { name: 'x' }), 400);
  });
});

describe('delete', () => {
  test('DELETE /api/projects/:id -> {success:true}; then 404 and gone from the list', async () => {
    const c = user();
    const keep = await createProject(c, 'keep');
    const id = await createProject(c, 'gone');
    expectSuccess(await c.del(`/api/projects/${id}`), 'DELETE project');
    expectStatus(await c.get(`/api/projects/${id}`), 404, 'GET deleted project');
    expectStatus(await c.patch(`/api/projects/${id}`, { name: 'x' }), 404, 'PATCH deleted project');
    expectStatus(await c.del(`/api/projects/${id}`), 404, 'DELETE deleted project again');
    assert.deepEqual(expectOk(await c.get('/api/projects')).map((p) => p._id), [keep]);
  });

  test('DELETE /api/projects/delete?projectId= -> {success:true}', async () => {
    const c = user();
    const id = await createProject(c, 'gone');
    const res = await c.del(`/api/projects/delete?projectId=${id}`);
    expectOk(res, 'DELETE /api/projects/delete?projectId=');
    assert.equal(res.json.success, true, `expected success:true, got ${describeRes(res)}`);
    expectStatus(await c.get(`/api/projects/${id}`), 404);
    expectStatus(await c.del(`/api/projects/delete?projectId=${id}`), 404, 'second delete');
  });

  test('DELETE /api/projects/delete without projectId -> 400; malformed -> 400; unknown -> 404', async () => {
    const c = user();
    expectStatus(await c.del('/api/projects/delete'), 400, 'missing projectId');
    expectStatus(await c.del('/api/projects/delete?projectId='), 400, 'empty projectId');
    expectStatus(await c.del('/api/projects/delete?projectId=zzz'), 400, 'malformed projectId');
    expectStatus(await c.del(`/api/projects/delete?projectId=${fakeId('cnv')}`), 400, 'conversation id as projectId');
    expectStatus(await c.del(`/api/projects/delete?projectId=${fakeId('prj')}`), 404, 'unknown projectId');
  });

  test('delete cascades: files, folders, conversations and messages answer 404', async () => {
    const c = user();
    const id = await createProject(c, 'cascade');
    const other = await createProject(c, 'other');
    const f = expectOk(await c.put(`/api/projects/${id}/files/content`, { path: 'src/a.txt', content: 'x' })).fileId;
    const folder = expectOk(await c.post(`/api/projects/${id}/folders`, { path: 'docs' })).fileId;
    const conv = expectOk(await c.post('/api/conversations', { projectId: id })).conversationId;
    const otherConv = expectOk(await c.post('/api/conversations', { projectId: other })).conversationId;
    const otherFile = expectOk(await c.put(`/api/projects/${other}/files/content`, { path: 'src/a.txt', content: 'y' })).fileId;

    expectSuccess(await c.del(`/api/projects/${id}`));

    expectStatus(await c.get(`/api/projects/${id}/files`), 404, 'files of deleted project');
    expectStatus(await c.get(`/api/projects/${id}/files/content?path=src/a.txt`), 404, 'file content of deleted project');
    expectStatus(await c.put(`/api/projects/${id}/files/content`, { path: 'b.txt', content: '' }), 404, 'PUT into deleted project');
    expectStatus(await c.post(`/api/projects/${id}/folders`, { path: 'x' }), 404, 'mkdir in deleted project');
    expectStatus(await c.patch(`/api/files/${f}`, { content: 'z' }), 404, 'PATCH file of deleted project');
    expectStatus(await c.patch(`/api/files/${folder}`, { name: 'z' }), 404, 'rename folder of deleted project');
    expectStatus(await c.del(`/api/files/${f}`), 404, 'DELETE file of deleted project');
    expectStatus(await c.get(`/api/projects/${id}/conversations`), 404, 'conversations of deleted project');
    expectStatus(await c.get(`/api/conversations/${conv}`), 404, 'conversation of deleted project');
    expectStatus(await c.get(`/api/conversations/${conv}/messages`), 404, 'messages of deleted project');
    expectStatus(await c.post('/api/conversations', { projectId: id }), 404, 'new conversation in deleted project');

    // The sibling project is untouched.
    expectOk(await c.get(`/api/conversations/${otherConv}`), 'other project conversation survives');
    const content = expectOk(await c.get(`/api/projects/${other}/files/content?path=src/a.txt`));
    assert.equal(content.content, 'y');
    assert.equal(content.fileId, otherFile);
  });
});

// Two users cannot see or touch each other's data: everything answers exactly as if absent.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, expectStatus, expectOk, expectSuccess, fakeId, newUser } from './lib/server.mjs';

const ctx = useServer();
let alice;
let bob;
let A; // alice's objects

before(async () => {
  await ctx.ready; // top-level before hooks are not ordered; wait for the server
  alice = ctx.client(newUser('alice'));
  bob = ctx.client(newUser('bob'));
  const projectId = expectOk(await alice.post('/api/projects', { name: 'alice secret' })).projectId;
  const P = `/api/projects/${projectId}`;
  const fileId = expectOk(await alice.put(`${P}/files/content`, { path: 'dir/secret.txt', content: 'top secret' })).fileId;
  const folderId = expectOk(await alice.post(`${P}/folders`, { path: 'folder' })).fileId;
  const conversationId = expectOk(await alice.post('/api/conversations', { projectId, title: 'private' })).conversationId;
  A = { projectId, P, fileId, folderId, conversationId };
});

// Error sentences may quote the id that was asked for; compare them with ids masked.
const norm = (j) => JSON.parse(JSON.stringify(j).replace(/\b(prj|cnv|msg|fil|run)_[A-Za-z0-9]+/g, '<id>'));

/** Bob's request must look exactly like a request for an id that does not exist. */
async function sameAsAbsent(method, realPath, absentPath, body) {
  const real = await bob.req(method, realPath, { body });
  const absent = await bob.req(method, absentPath, { body });
  expectStatus(real, 404, `bob ${method} ${realPath}`);
  expectStatus(absent, 404, `bob ${method} ${absentPath}`);
  assert.deepEqual(norm(real.json), norm(absent.json), `another user's object must answer exactly like an absent one:\n  theirs: ${real.text}\n  absent: ${absent.text}`);
}

test("bob's project list does not include alice's project", async () => {
  assert.deepEqual(expectOk(await bob.get('/api/projects')), []);
  const bobProject = expectOk(await bob.post('/api/projects', { name: 'bob' })).projectId;
  const list = expectOk(await bob.get('/api/projects'));
  assert.deepEqual(list.map((p) => p._id), [bobProject]);
  assert.ok(!expectOk(await alice.get('/api/projects')).some((p) => p._id === bobProject), 'alice must not see bob');
});

test("bob cannot GET/PATCH/DELETE alice's project (404 as if absent)", async () => {
  const ghost = `/api/projects/${fakeId('prj')}`;
  await sameAsAbsent('GET', A.P, ghost);
  await sameAsAbsent('PATCH', A.P, ghost, { name: 'pwned' });
  await sameAsAbsent('DELETE', A.P, ghost);
  await sameAsAbsent('DELETE', `/api/projects/delete?projectId=${A.projectId}`, `/api/projects/delete?projectId=${fakeId('prj')}`);
});

test("bob cannot list, read, write or mkdir in alice's project files", async () => {
  const ghost = `/api/projects/${fakeId('prj')}`;
  await sameAsAbsent('GET', `${A.P}/files`, `${ghost}/files`);
  await sameAsAbsent('GET', `${A.P}/files/content?path=dir/secret.txt`, `${ghost}/files/content?path=dir/secret.txt`);
  await sameAsAbsent('PUT', `${A.P}/files/content`, `${ghost}/files/content`, { path: 'dir/secret.txt', content: 'pwned' });
  await sameAsAbsent('PUT', `${A.P}/files/content`, `${ghost}/files/content`, { path: 'new.txt', content: 'pwned' });
  await sameAsAbsent('POST', `${A.P}/folders`, `${ghost}/folders`, { path: 'evil' });
});

test("bob cannot PATCH or DELETE alice's files by id", async () => {
  const ghost = `/api/files/${fakeId('fil')}`;
  await sameAsAbsent('PATCH', `/api/files/${A.fileId}`, ghost, { content: 'pwned' });
  await sameAsAbsent('PATCH', `/api/files/${A.fileId}`, ghost, { name: 'pwned.txt' });
  await sameAsAbsent('PATCH', `/api/files/${A.folderId}`, ghost, { name: 'pwned' });
  await sameAsAbsent('DELETE', `/api/files/${A.fileId}`, ghost);
  await sameAsAbsent('DELETE', `/api/files/${A.folderId}`, ghost);
});

test("bob cannot see or create conversations in alice's project", async () => {
  const ghostP = `/api/projects/${fakeId('prj')}`;
  const ghostC = `/api/conversations/${fakeId('cnv')}`;
  await sameAsAbsent('GET', `${A.P}/conversations`, `${ghostP}/conversations`);
  await sameAsAbsent('GET', `/api/conversations/${A.conversationId}`, ghostC);
  await sameAsAbsent('GET', `/api/conversations/${A.conversationId}/messages`, `${ghostC}/messages`);
  const real = await bob.post('/api/conversations', { projectId: A.projectId });
  const absent = await bob.post('/api/conversations', { projectId: fakeId('prj') });
  expectStatus(real, 404, "bob creates a conversation in alice's project");
  expectStatus(absent, 404);
  assert.deepEqual(norm(real.json), norm(absent.json));
});

test("alice's data is intact after bob's attempts", async () => {
  const doc = expectOk(await alice.get(A.P));
  assert.equal(doc.name, 'alice secret');
  const content = expectOk(await alice.get(`${A.P}/files/content?path=dir/secret.txt`));
  assert.equal(content.content, 'top secret');
  assert.equal(content.fileId, A.fileId);
  const files = expectOk(await alice.get(`${A.P}/files`));
  assert.deepEqual(files.map((f) => f.name).sort(), ['dir', 'folder', 'secret.txt']);
  const convs = expectOk(await alice.get(`${A.P}/conversations`));
  assert.deepEqual(convs.map((c) => c._id), [A.conversationId]);
  assert.deepEqual(expectOk(await alice.get(`/api/conversations/${A.conversationId}/messages`)), []);
});

test('the same sub in two different tokens is the same user', async () => {
  const sub = newUser('carol');
  const c1 = ctx.client(sub);
  const c2 = ctx.client(sub, { iat: Math.floor(Date.now() / 1000) - 10 });
  assert.notEqual(c1.token, c2.token);
  const id = expectOk(await c1.post('/api/projects', { name: 'carol' })).projectId;
  expectOk(await c2.get(`/api/projects/${id}`));
  expectSuccess(await c2.del(`/api/projects/${id}`));
});

test('users whose ids differ only by case or a suffix are different users', async () => {
  const base = newUser('Dave');
  const d1 = ctx.client(base);
  const d2 = ctx.client(base.toLowerCase());
  const d3 = ctx.client(base + ' ');
  const id = expectOk(await d1.post('/api/projects', { name: 'dave' })).projectId;
  expectStatus(await d2.get(`/api/projects/${id}`), 404);
  expectStatus(await d3.get(`/api/projects/${id}`), 404);
});

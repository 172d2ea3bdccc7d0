// Durability and lifecycle: data survives kill -9 and clean restarts; SIGTERM exits 0.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  startServer, client, makeToken, expectOk, expectSuccess, expectStatus, makeTempDir, randomSecret, newUser, sleep, request,
} from './lib/server.mjs';

const dirs = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

async function waitUntil(cond, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  while (!cond() && Date.now() < deadline) await sleep(1);
}

function freshDir() {
  const d = makeTempDir();
  dirs.push(d);
  return d;
}

test('a project (and its files and conversations) survives kill -9 and restart', async () => {
  const dataDir = freshDir();
  const secret = randomSecret();
  const sub = newUser('durable');
  const token = makeToken(sub, secret);
  let server = await startServer({ dataDir, secret });
  let projectId;
  let fileId;
  let conversationId;
  try {
    const c = client(server, token);
    projectId = expectOk(await c.post('/api/projects', { name: 'Survivor' })).projectId;
    fileId = expectOk(await c.put(`/api/projects/${projectId}/files/content`, { path: 'src/keep.txt', content: 'still here' })).fileId;
    conversationId = expectOk(await c.post('/api/conversations', { projectId, title: 'durable chat' })).conversationId;
    // The answer came back: the write must already be durable. No grace period.
    const exit = await server.kill9();
    assert.equal(exit.signal, 'SIGKILL');
  } finally {
    if (server.alive()) await server.kill9();
  }

  server = await startServer({ dataDir, secret });
  try {
    const c = client(server, token);
    const list = expectOk(await c.get('/api/projects'), 'list after kill -9');
    assert.deepEqual(list.map((p) => p._id), [projectId], 'the project must survive kill -9');
    assert.equal(list[0].name, 'Survivor');
    assert.equal(list[0].ownerId, sub);
    const content = expectOk(await c.get(`/api/projects/${projectId}/files/content?path=src/keep.txt`), 'file after kill -9');
    assert.deepEqual(content, { fileId, path: 'src/keep.txt', content: 'still here' });
    const conv = expectOk(await c.get(`/api/conversations/${conversationId}`), 'conversation after kill -9');
    assert.equal(conv.title, 'durable chat');
    assert.deepEqual(expectOk(await c.get(`/api/conversations/${conversationId}/messages`)), []);
    // And the server is writable again after the crash.
    expectOk(await c.post('/api/projects', { name: 'after crash' }));
  } finally {
    await server.stop();
  }
});

test('a rename and a delete acknowledged just before kill -9 are durable', async () => {
  const dataDir = freshDir();
  const secret = randomSecret();
  const token = makeToken(newUser(), secret);
  let server = await startServer({ dataDir, secret });
  let keep;
  let gone;
  try {
    const c = client(server, token);
    keep = expectOk(await c.post('/api/projects', { name: 'before' })).projectId;
    gone = expectOk(await c.post('/api/projects', { name: 'to delete' })).projectId;
    expectSuccess(await c.patch(`/api/projects/${keep}`, { name: 'after' }));
    expectSuccess(await c.del(`/api/projects/${gone}`));
  } finally {
    await server.kill9();
  }
  server = await startServer({ dataDir, secret });
  try {
    const c = client(server, token);
    const list = expectOk(await c.get('/api/projects'));
    assert.deepEqual(list.map((p) => [p._id, p.name]), [[keep, 'after']]);
    expectStatus(await c.get(`/api/projects/${gone}`), 404);
  } finally {
    await server.stop();
  }
});

test('many concurrent writes then kill -9: every acknowledged project is there', async () => {
  const dataDir = freshDir();
  const secret = randomSecret();
  const token = makeToken(newUser(), secret);
  let server = await startServer({ dataDir, secret });
  let ids;
  try {
    const c = client(server, token);
    const res = await Promise.all(Array.from({ length: 40 }, (_, i) => c.post('/api/projects', { name: `p${i}` })));
    ids = res.map((r) => expectOk(r).projectId);
  } finally {
    await server.kill9();
  }
  server = await startServer({ dataDir, secret });
  try {
    const list = expectOk(await client(server, token).get('/api/projects'));
    assert.deepEqual(new Set(list.map((p) => p._id)), new Set(ids));
  } finally {
    await server.stop();
  }
});

test('SIGTERM exits 0, and a clean restart keeps the data', async () => {
  const dataDir = freshDir();
  const secret = randomSecret();
  const token = makeToken(newUser(), secret);
  let server = await startServer({ dataDir, secret });
  const c = client(server, token);
  const projectId = expectOk(await c.post('/api/projects', { name: 'clean' })).projectId;
  await server.stop({ keepDir: true }); // asserts exit code 0 within 10 s
  server = await startServer({ dataDir, secret });
  try {
    const doc = expectOk(await client(server, token).get(`/api/projects/${projectId}`));
    assert.equal(doc.name, 'clean');
  } finally {
    await server.stop();
  }
});

test('SIGTERM with open idle keep-alive connections still exits 0 within 10 s', async () => {
  const dataDir = freshDir();
  const server = await startServer({ dataDir });
  const net = await import('node:net');
  const socks = [];
  for (let i = 0; i < 5; i++) {
    const s = net.connect({ host: '127.0.0.1', port: server.port });
    s.on('error', () => {});
    await new Promise((r) => s.once('connect', r));
    s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    socks.push(s);
  }
  // One connection mid-request, too.
  const half = net.connect({ host: '127.0.0.1', port: server.port });
  half.on('error', () => {});
  await new Promise((r) => half.once('connect', r));
  half.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
  socks.push(half);
  await sleep(100);
  try {
    await server.stop();
  } finally {
    for (const s of socks) s.destroy();
  }
});

test('SIGINT also stops the server cleanly', async () => {
  const dataDir = freshDir();
  const server = await startServer({ dataDir });
  expectOk(await request(server, 'GET', '/healthz'));
  server.stopped = true;
  server.proc.kill('SIGINT');
  const res = await Promise.race([server.exited, sleep(10_000).then(() => null)]);
  if (res === null) server.proc.kill('SIGKILL');
  assert.ok(res, 'server did not exit within 10 s of SIGINT');
  assert.equal(res.code, 0, `exit code after SIGINT: ${res.code} signal ${res.signal}`);
});

test('two servers on two data dirs are independent', async () => {
  const secret = randomSecret();
  const token = makeToken(newUser(), secret);
  const a = await startServer({ dataDir: freshDir(), secret });
  const b = await startServer({ dataDir: freshDir(), secret });
  try {
    assert.notEqual(a.port, b.port);
    const id = expectOk(await client(a, token).post('/api/projects', { name: 'only in a' })).projectId;
    expectStatus(await client(b, token).get(`/api/projects/${id}`), 404);
    assert.deepEqual(expectOk(await client(b, token).get('/api/projects')), []);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('serve is configurable through POLARIS_HOST, PORT, POLARIS_DATA_DIR, POLARIS_DB alone', async () => {
  const dataDir = freshDir();
  const secret = randomSecret();
  const dbPath = `${dataDir}/env-configured.db`;
  const server = await startServer({ dataDir, secret, dbPath, envOnly: true });
  try {
    const token = makeToken(newUser(), secret);
    expectOk(await client(server, token).post('/api/projects', { name: 'env' }));
    assert.ok(fs.existsSync(dbPath), `the SQLite database must be created at POLARIS_DB (${dbPath})`);
  } finally {
    await server.stop();
  }
});

/**
 * Keeps `workers` writers busy until stop() is called; each write is PUT f<i>.txt with content
 * of length 1000+i. Resolves the list of results ({i, status} or {i, error}).
 */
function writeLoop(c, projectId, workers = 16) {
  let next = 0;
  let stopped = false;
  const results = [];
  const worker = async () => {
    while (!stopped) {
      const i = next++;
      try {
        const r = await c.put(`/api/projects/${projectId}/files/content`, { path: `d${i % 7}/f${i}.txt`, content: 'x'.repeat(1000 + i) }, { timeout: 15_000 });
        results.push({ i, status: r.status, text: r.text });
      } catch (e) {
        results.push({ i, error: e });
        return; // the server is gone
      }
    }
  };
  const all = Promise.all(Array.from({ length: workers }, worker));
  return { stop: () => { stopped = true; return all.then(() => results); }, count: () => results.length };
}

async function checkAcked(c2, projectId, results, what) {
  const acked = results.filter((x) => x.status === 200).map((x) => x.i);
  const list = expectOk(await c2.get(`/api/projects/${projectId}/files`), `files after ${what}`);
  const files = new Map(list.filter((f) => f.type === 'file').map((f) => [f.name, f]));
  for (const i of acked) {
    const f = files.get(`f${i}.txt`);
    assert.ok(f, `acknowledged write f${i}.txt lost after ${what}`);
  }
  // Listings carry metadata only: each file's content is read on its own.
  for (const name of files.keys()) {
    const i = Number(name.slice(1, -4));
    const got = expectOk(await c2.get(`/api/projects/${projectId}/files/content?path=d${i % 7}/${name}`));
    assert.equal(got.content.length, 1000 + i, `torn write in ${name} after ${what}`);
  }
  return acked.length;
}

test('SIGTERM in the middle of a burst of writes: exit 0, every acknowledged write persisted', async (t) => {
  const dataDir = freshDir();
  const secret = randomSecret();
  const token = makeToken(newUser(), secret);
  let server = await startServer({ dataDir, secret });
  const c = client(server, token);
  const projectId = expectOk(await c.post('/api/projects', { name: 'burst' })).projectId;
  const loop = writeLoop(c, projectId);
  await waitUntil(() => loop.count() >= 100);
  const stopping = server.stop({ keepDir: true }); // asserts exit 0 within 10 s
  await stopping;
  const results = await loop.stop();
  for (const x of results) {
    if (x.status !== undefined) assert.ok(x.status === 200 || x.status === 503, `unexpected answer during shutdown: ${x.status} ${x.text}`);
  }
  server = await startServer({ dataDir, secret });
  try {
    const n = await checkAcked(client(server, token), projectId, results, 'SIGTERM');
    t.diagnostic(`${n}/${results.length} writes acknowledged around SIGTERM`);
  } finally {
    await server.stop();
  }
});

test('kill -9 in the middle of a burst of writes: restart works, acknowledged writes persisted, none torn', async (t) => {
  const dataDir = freshDir();
  const secret = randomSecret();
  const token = makeToken(newUser(), secret);
  let server = await startServer({ dataDir, secret });
  const c = client(server, token);
  const projectId = expectOk(await c.post('/api/projects', { name: 'crash' })).projectId;
  const loop = writeLoop(c, projectId);
  await waitUntil(() => loop.count() >= 150);
  await server.kill9();
  const results = await loop.stop();
  server = await startServer({ dataDir, secret });
  try {
    const c2 = client(server, token);
    const n = await checkAcked(c2, projectId, results, 'kill -9');
    t.diagnostic(`${n}/${results.length} writes acknowledged before kill -9`);
    expectOk(await c2.put(`/api/projects/${projectId}/files/content`, { path: 'after.txt', content: 'ok' }), 'writable after crash');
  } finally {
    await server.stop();
  }
});

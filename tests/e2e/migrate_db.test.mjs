// `polaris migrate-db`: copies a whole database between SQLite and PostgreSQL (and SQLite to
// SQLite), verified per table, into an empty target only. Data is written through the HTTP
// API, the copy is served by a new server on the same data dir (the same JWT secret), and
// every answer must be the same as before. The PostgreSQL round trip needs
// POLARIS_TEST_PG_URI (scripts/run-tests.sh starts a throwaway cluster).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  POLARIS_BIN, ON_POSTGRES, createPgDatabase, startServer, client, makeToken, makeTempDir,
  randomSecret, newUser, expectOk, expectSuccess,
} from './lib/server.mjs';
import { startMock, providerEnv, postMessage, waitStatus } from './lib/mock.mjs';

const dirs = [];
after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });
function freshDir() {
  const d = makeTempDir('polaris-migrate-');
  dirs.push(d);
  return d;
}

const TABLES = ['projects', 'conversations', 'messages', 'tool_calls', 'files', 'runs', 'idempotency_keys'];
// Contents that COPY's text format escapes, and multibyte text.
const TRICKY = 'tab\there\nnew line\r\nback\\slash \\N not null ✓ 🚀 "quotes" \'single\'';

/** Runs `polaris migrate-db ARGS`; resolves {code, stdout, stderr}. */
function migrateDb(...args) {
  return new Promise((resolve) => {
    execFile(POLARIS_BIN, ['migrate-db', ...args], { timeout: 120_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** Parses the per-table lines; every stdout line must be one. */
function parseReport(res, what) {
  assert.equal(res.code, 0, `${what}: exit 0 expected\nstdout: ${res.stdout}\nstderr: ${res.stderr}`);
  const report = {};
  for (const line of res.stdout.split('\n').filter((l) => l.trim() !== '')) {
    const m = /^(\S+)\s+rows=(\d+)\s+sha256=([0-9a-f]{64})\s+ok$/.exec(line);
    assert.ok(m, `${what}: unexpected output line ${JSON.stringify(line)}`);
    report[m[1]] = { rows: Number(m[2]), sha256: m[3] };
  }
  for (const t of TABLES) assert.ok(report[t], `${what}: no line for table ${t}:\n${res.stdout}`);
  assert.equal(report.schema_migrations, undefined, `${what}: bookkeeping is not copied`);
  return report;
}

/** Projects, files with contents, conversations, messages and runs of each user, as the API answers. */
async function snapshot(server, users) {
  const out = {};
  for (const user of users) {
    const c = client(server, makeToken(user, server.secret));
    const projects = expectOk(await c.get('/api/projects'), 'projects');
    const perProject = [];
    for (const p of projects) {
      const files = expectOk(await c.get(`/api/projects/${p._id}/files`), 'files');
      const contents = {};
      for (const f of files.filter((x) => x.type === 'file')) {
        const names = [];
        for (let node = f; node; node = files.find((x) => x._id === node.parentId)) names.unshift(node.name);
        const p2 = names.join('/');
        contents[p2] = expectOk(await c.get(`/api/projects/${p._id}/files/content?path=${encodeURIComponent(p2)}`), `content of ${p2}`);
      }
      const conversations = expectOk(await c.get(`/api/projects/${p._id}/conversations`), 'conversations');
      const messages = {};
      const runs = {};
      for (const conv of conversations) {
        messages[conv._id] = expectOk(await c.get(`/api/conversations/${conv._id}/messages`), 'messages');
        for (const m of messages[conv._id].filter((x) => x.triggerRunId)) {
          const r = await c.get(`/api/runs/${m.triggerRunId}`);
          runs[m.triggerRunId] = { status: r.status, body: r.json };
        }
      }
      perProject.push({ project: expectOk(await c.get(`/api/projects/${p._id}`)), files, contents, conversations, messages, runs });
    }
    out[user] = { projects, perProject };
  }
  return out;
}

/**
 * Writes through the API: two users, nested files (one renamed, one rewritten, one deleted),
 * and, with a mock provider, a completed reply with a tool call and an Idempotency-Key.
 */
async function populate(server, users, mock) {
  const [alice, bob] = users.map((u) => client(server, makeToken(u, server.secret)));
  const web = expectOk(await alice.post('/api/projects', { name: 'Web app ✓' })).projectId;
  const put = async (c, p, filePath, content) =>
    expectOk(await c.put(`/api/projects/${p}/files/content`, { path: filePath, content }), `PUT ${filePath}`);
  await put(alice, web, 'src/app.js', 'console.log("hi");\n');
  await put(alice, web, 'src/lib/deep/util.js', TRICKY);
  await put(alice, web, 'README.md', '');
  const old = await put(alice, web, 'src/old.txt', 'renamed later');
  expectSuccess(await alice.patch(`/api/files/${old.fileId}`, { name: 'renamed.txt' }));
  const gone = await put(alice, web, 'tmp/gone.txt', 'deleted');
  expectSuccess(await alice.del(`/api/files/${gone.fileId}`));
  await put(alice, web, 'src/app.js', 'console.log("rewritten");\n');
  expectOk(await alice.post(`/api/projects/${web}/folders`, { path: 'docs/empty' }));
  const second = expectOk(await alice.post('/api/projects', { name: 'second' })).projectId;
  expectSuccess(await alice.patch(`/api/projects/${second}`, { name: 'second, renamed' }));
  const chat = expectOk(await alice.post('/api/conversations', { projectId: web, title: 'First chat' })).conversationId;
  expectOk(await alice.post('/api/conversations', { projectId: web, title: 'Empty chat' }));
  if (mock) {
    await mock.script([
      { type: 'tool_calls', text: 'Writing it.', calls: [{ id: 'call_1', name: 'write_file', arguments: { path: 'src/gen.js', content: TRICKY } }] },
      { type: 'text', text: 'Done ✓', usage: { prompt: 12, completion: 34 } },
    ]);
    const headers = { 'Idempotency-Key': 'migrate-key-1' };
    const { messageId } = await postMessage(alice, chat, 'write a file', { headers });
    await waitStatus(alice, chat, messageId, 'completed');
  }
  const bobs = expectOk(await bob.post('/api/projects', { name: 'bob project' })).projectId;
  await put(bob, bobs, 'a/b/c/d.txt', 'bob\'s file');
  expectOk(await bob.post('/api/conversations', { projectId: bobs }));
}

test('usage errors exit 2 with a usage line', async () => {
  const dir = freshDir();
  for (const args of [[], ['--from', `sqlite:${dir}/a.db`], ['--to', `sqlite:${dir}/a.db`],
    ['--from', 'mysql://x', '--to', `sqlite:${dir}/b.db`], ['--from', `sqlite:${dir}/a.db`, '--to', 'nope'],
    ['--from', `sqlite:${dir}/a.db`, '--bogus', 'x']]) {
    const res = await migrateDb(...args);
    assert.equal(res.code, 2, `migrate-db ${args.join(' ')}: exit 2 expected, got ${res.code}\n${res.stderr}`);
    assert.match(res.stderr, /usage: polaris migrate-db --from/, `migrate-db ${args.join(' ')}: usage line`);
  }
  const missing = await migrateDb('--from', `sqlite:${dir}/missing.db`, '--to', `sqlite:${dir}/b.db`);
  assert.equal(missing.code, 1, missing.stderr);
  assert.match(missing.stderr, /does not exist/);
});

test('SQLite to SQLite: a verified copy that serves the same answers; a non-empty target is refused', async () => {
  const dataDir = freshDir();
  const secret = randomSecret();
  const users = [newUser('alice'), newUser('bob')];
  const from = `sqlite:${path.join(dataDir, 'from.db')}`;
  const to = `sqlite:${path.join(dataDir, 'sub', 'to.db')}`;
  let server = await startServer({ dataDir, secret, db: from });
  let before;
  try {
    await populate(server, users, null);
    before = await snapshot(server, users);
  } finally {
    await server.stop();
  }
  const report = parseReport(await migrateDb('--from', from, '--to', to), 'sqlite -> sqlite');
  assert.equal(report.projects.rows, 3);
  assert.equal(report.conversations.rows, 3);

  server = await startServer({ dataDir, secret, db: to });
  try {
    assert.deepEqual(await snapshot(server, users), before, 'the copy answers as the original');
  } finally {
    await server.stop();
  }
  const again = await migrateDb('--from', from, '--to', to);
  assert.equal(again.code, 1, again.stderr);
  assert.match(again.stderr, /target database is not empty: table \S+ has \d+ rows/);
  assert.equal(again.stdout, '');
});

test('SQLite -> PostgreSQL -> SQLite: the same data, the same checksums, the same answers',
  { skip: ON_POSTGRES ? false : 'needs POLARIS_TEST_PG_URI' }, async () => {
    const dataDir = freshDir();
    const secret = randomSecret();
    const users = [newUser('alice'), newUser('bob')];
    const first = `sqlite:${path.join(dataDir, 'first.db')}`;
    const mock = await startMock('migrate');
    let server;
    let before;
    try {
      server = await startServer({ dataDir, secret, db: first, env: providerEnv(mock) });
      await populate(server, users, mock);
      before = await snapshot(server, users);
    } finally {
      if (server) await server.stop();
      await mock.stop();
    }

    // SQLite -> PostgreSQL.
    const pg = createPgDatabase();
    const toPg = parseReport(await migrateDb('--from', first, '--to', pg), 'sqlite -> postgres');
    for (const t of ['projects', 'conversations', 'messages', 'tool_calls', 'files', 'runs', 'idempotency_keys']) {
      assert.ok(toPg[t].rows > 0, `table ${t} should have rows: ${JSON.stringify(toPg[t])}`);
    }
    server = await startServer({ dataDir, secret, db: pg });
    try {
      assert.deepEqual(await snapshot(server, users), before, 'PostgreSQL answers as SQLite did');
    } finally {
      await server.stop();
    }

    // PostgreSQL -> SQLite: the same rows, the same checksums.
    const second = `sqlite:${path.join(dataDir, 'second.db')}`;
    const toSqlite = parseReport(await migrateDb('--from', pg, '--to', second), 'postgres -> sqlite');
    assert.deepEqual(toSqlite, toPg, 'both directions report the same tables, rows and checksums');
    server = await startServer({ dataDir, secret, db: second });
    try {
      assert.deepEqual(await snapshot(server, users), before, 'the SQLite copy answers as the original');
      // The Idempotency-Key answer came along: a replay gets the first ids.
      const alice = client(server, makeToken(users[0], secret));
      const web = before[users[0]].perProject.find((x) => x.project.name === 'Web app ✓');
      const conv = web.conversations.find((x) => x.title === 'First chat');
      const asst = web.messages[conv._id].find((m) => m.role === 'assistant');
      const replay = expectOk(await alice.post('/api/messages', { conversationId: conv._id, message: 'write a file' },
        { headers: { 'Idempotency-Key': 'migrate-key-1' } }), 'replay');
      assert.equal(replay.messageId, asst._id);
      assert.equal(replay.runId, asst.triggerRunId);
    } finally {
      await server.stop();
    }

    // A target with data is refused, and left as it was.
    for (const [from, to] of [[first, pg], [pg, first]]) {
      const res = await migrateDb('--from', from, '--to', to);
      assert.equal(res.code, 1, `${from} -> ${to}: ${res.stderr}`);
      assert.match(res.stderr, /target database is not empty: table \S+ has \d+ rows/);
    }
    const third = `sqlite:${path.join(dataDir, 'third.db')}`;
    assert.deepEqual(parseReport(await migrateDb('--from', pg, '--to', third), 'postgres -> sqlite again'), toPg,
      'the refused migration changed nothing');
    // A libpq "key=value" string names the same database.
    const u = new URL(pg);
    const kv = `host=${u.hostname} port=${u.port} dbname=${u.pathname.slice(1)} user=${decodeURIComponent(u.username)}` +
      (u.password ? ` password=${decodeURIComponent(u.password)}` : '');
    const fourth = `sqlite:${path.join(dataDir, 'fourth.db')}`;
    assert.deepEqual(parseReport(await migrateDb('--from', kv, '--to', fourth), 'key=value -> sqlite'), toPg);
  });

test('U+0000 in a file (which PostgreSQL text cannot hold as it is) round-trips SQLite -> PostgreSQL -> SQLite',
  { skip: ON_POSTGRES ? false : 'needs POLARIS_TEST_PG_URI' }, async () => {
    const dataDir = freshDir();
    const secret = randomSecret();
    const user = newUser('nul');
    const token = makeToken(user, secret);
    const content = 'a\u0000b \u{10FFFE}0 \u{10FFFE}E end\u0000';  // NUL and the escape's own marker
    const db = `sqlite:${path.join(dataDir, 'nul.db')}`;
    const read = async (server, projectId) => {
      const got = await client(server, token).get(`/api/projects/${projectId}/files/content?path=bad.txt`);
      return expectOk(got).content;
    };
    let server = await startServer({ dataDir, secret, db });
    let p;
    try {
      const c = client(server, token);
      p = expectOk(await c.post('/api/projects', { name: 'nul' })).projectId;
      expectOk(await c.put(`/api/projects/${p}/files/content`, { path: 'bad.txt', content }));
      assert.equal(await read(server, p), content);
    } finally {
      await server.stop();
    }
    const pg = createPgDatabase();
    parseReport(await migrateDb('--from', db, '--to', pg), 'sqlite -> pg');
    server = await startServer({ dataDir, secret, db: pg });
    try {
      assert.equal(await read(server, p), content, 'served from PostgreSQL');
    } finally {
      await server.stop();
    }
    const back = `sqlite:${path.join(dataDir, 'back.db')}`;
    parseReport(await migrateDb('--from', pg, '--to', back), 'pg -> sqlite');
    server = await startServer({ dataDir, secret, db: back });
    try {
      assert.equal(await read(server, p), content, 'served from the copy back in SQLite');
    } finally {
      await server.stop();
    }
  });

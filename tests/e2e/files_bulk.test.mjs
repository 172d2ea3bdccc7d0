// Bulk files (the page's zip import and download) and the 409 of POST /api/messages:
//  - POST /api/projects/:id/files/bulk {files:[{path, content}]} writes every file in ONE
//    transaction (upsert, parents created) -> {written, skipped:[{path, reason}]}; invalid paths,
//    a folder or file in the way, a NUL byte ("not a text file"; JSON cannot carry invalid UTF-8) and files over
//    POLARIS_MAX_IMPORT_FILE_BYTES ("larger than 1 MiB") are skipped and leave nothing behind;
//    the body may hold POLARIS_MAX_IMPORT_BYTES (16 MiB) instead of 1 MiB (413 above it); a full
//    quota refuses the whole import (409/413 with "limit"); 400/401/404 as the other routes;
//  - GET /api/projects/:id/files/bulk -> {files:[{path, type, content?}]} sorted by path;
//  - Convex query files:getTree answers the tree without content;
//  - POST /api/messages 409 names the running message's messageId and conversationId.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, request, expectStatus, expectOk, fakeId, retag, newUser, describeRes,
} from './lib/server.mjs';
import {
  useMockedServer, newChat, postMessage, getMessages, waitFor, waitStatus, words,
} from './lib/mock.mjs';

const T = { timeout: 60_000 };
const MiB = 1024 * 1024;

/** A user with one project and short-hands for its files. */
async function setup(S, name = 'bulk') {
  const c = S.client(newUser());
  const projectId = expectOk(await c.post('/api/projects', { name }), 'create project').projectId;
  return projectHelpers(c, projectId);
}

function projectHelpers(c, projectId) {
  const P = `/api/projects/${projectId}`;
  return {
    c, projectId, P,
    /** POST bulk with {files}; the raw answer. */
    bulk: (files, opts) => c.post(`${P}/files/bulk`, { files }, opts),
    /** GET bulk, asserting 200 and the {files: [...]} shape; the array. */
    async exportTree() {
      const res = await c.get(`${P}/files/bulk`);
      const body = expectOk(res, 'GET files/bulk');
      assert.deepEqual(Object.keys(body), ['files'], `answer is {files}: ${describeRes(res)}`);
      assert.ok(Array.isArray(body.files), describeRes(res));
      return body.files;
    },
    put: async (path, content) => expectOk(await c.put(`${P}/files/content`, { path, content }), `PUT ${path}`).fileId,
    mkdir: async (path) => expectOk(await c.post(`${P}/folders`, { path }), `mkdir ${path}`).fileId,
    read: (path) => c.get(`${P}/files/content?path=${encodeURIComponent(path)}`),
    async content(path) { return expectOk(await this.read(path), `read ${path}`).content; },
    list: async () => expectOk(await c.get(`${P}/files`), 'GET files'),
    /** {path: doc} of the whole tree, from the listing. */
    async paths() { return pathsOf(await this.list()); },
  };
}

/** Maps every file doc in `list` to its full path. */
function pathsOf(list) {
  const byId = new Map(list.map((f) => [f._id, f]));
  const full = (f) => {
    const parts = [];
    for (let cur = f, guard = 0; cur; cur = cur.parentId ? byId.get(cur.parentId) : undefined) {
      parts.unshift(cur.name);
      if (++guard > 100_000) throw new Error('parentId cycle');
    }
    return parts.join('/');
  };
  return Object.fromEntries(list.map((f) => [full(f), f]));
}

/** Asserts 200 {written, skipped} (exact keys); returns the body. */
function expectImported(res, written, what) {
  const body = expectOk(res, what);
  assert.deepEqual(Object.keys(body).sort(), ['skipped', 'written'], `${what}: answer is {written, skipped}: ${describeRes(res)}`);
  assert.ok(Array.isArray(body.skipped), `${what}: skipped is an array: ${describeRes(res)}`);
  for (const s of body.skipped) {
    assert.deepEqual(Object.keys(s).sort(), ['path', 'reason'], `${what}: skipped entries are {path, reason}: ${JSON.stringify(s)}`);
    assert.equal(typeof s.reason, 'string');
    assert.ok(s.reason.trim().length > 0, `${what}: a reason is a sentence: ${JSON.stringify(s)}`);
  }
  assert.equal(body.written, written, `${what}: written: ${describeRes(res)}`);
  return body;
}

/** {error, limit} with the given status. */
function expectLimit(res, status, limit, what) {
  expectStatus(res, status, what);
  assert.equal(res.json.limit, limit, `${what}: body must name the limit "${limit}", got ${describeRes(res)}`);
}

const fill = (n, ch = 'x') => ch.repeat(n);
const byPath = (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

// ------------------------------------------------------------------------------------------
// Default limits.

describe('POST files/bulk: writing', () => {
  const D = useServer();

  test('writes every file, creating parents -> {written: 5, skipped: []}; contents read back; tree linked', T, async () => {
    const s = await setup(D);
    const files = [
      { path: 'README.md', content: '# hello\n' },
      { path: 'src/index.js', content: 'import "./lib/util.js";\n' },
      { path: 'src/lib/util.js', content: 'export const x = 1;\n' },
      { path: 'docs/a/b/c.md', content: 'naïve café — 日本語 — 🚀\r\n\t"q" \\ \u2028' },
      { path: 'empty.txt', content: '' },
    ];
    const body = expectImported(await s.bulk(files), 5, 'import 5 files');
    assert.deepEqual(body.skipped, []);
    for (const f of files) assert.equal(await s.content(f.path), f.content, f.path);
    const tree = await s.paths();
    assert.deepEqual(Object.keys(tree).sort(), ['README.md', 'docs', 'docs/a', 'docs/a/b', 'docs/a/b/c.md', 'empty.txt',
      'src', 'src/index.js', 'src/lib', 'src/lib/util.js']);
    for (const p of ['docs', 'docs/a', 'docs/a/b', 'src', 'src/lib']) assert.equal(tree[p].type, 'folder', p);
    for (const f of files) assert.equal(tree[f.path].type, 'file', f.path);
    assert.equal(tree['src/lib/util.js'].parentId, tree['src/lib']._id);
    assert.equal(tree['src/lib'].parentId, tree.src._id);
  });

  test('upsert: existing files keep their id and take the new content; existing folders are reused', T, async () => {
    const s = await setup(D);
    const a = await s.put('src/a.js', 'old a');
    const keep = await s.put('src/keep.js', 'untouched');
    const empty = await s.mkdir('src/empty');
    expectImported(await s.bulk([
      { path: 'src/a.js', content: 'new a' },
      { path: 'src/b.js', content: 'b' },
      { path: 'src/empty/c.js', content: 'c' },
    ]), 3, 'import over an existing tree');
    const tree = await s.paths();
    assert.deepEqual(Object.keys(tree).sort(), ['src', 'src/a.js', 'src/b.js', 'src/empty', 'src/empty/c.js', 'src/keep.js']);
    assert.equal(tree['src/a.js']._id, a, 'upsert keeps the id');
    assert.equal(tree['src/keep.js']._id, keep);
    assert.equal(tree['src/empty']._id, empty, 'the existing folder is reused');
    assert.equal(await s.content('src/a.js'), 'new a');
    assert.equal(await s.content('src/keep.js'), 'untouched');
    // Importing the same files again writes them again and duplicates nothing.
    expectImported(await s.bulk([{ path: 'src/a.js', content: 'newer a' }, { path: 'src/b.js', content: 'b' }]), 2, 're-import');
    assert.equal((await s.list()).length, 6);
    assert.equal(await s.content('src/a.js'), 'newer a');
  });

  test('the same path twice in one import: one file, the last content wins', T, async () => {
    const s = await setup(D);
    const res = await s.bulk([{ path: 'd/x.txt', content: 'first' }, { path: 'd/x.txt', content: 'second' }]);
    const body = expectOk(res, 'duplicate paths');
    assert.equal(body.written + body.skipped.length, 2, describeRes(res));
    assert.deepEqual(Object.keys(await s.paths()).sort(), ['d', 'd/x.txt']);
    assert.equal(await s.content('d/x.txt'), 'second');
  });

  test('an empty list -> {written: 0, skipped: []}', T, async () => {
    const s = await setup(D);
    const body = expectImported(await s.bulk([]), 0, 'empty import');
    assert.deepEqual(body.skipped, []);
    assert.deepEqual(await s.list(), []);
  });

  test('invalid paths, a folder or file in the way, NUL content, > 1 MiB are skipped with a reason; the rest is written; skipped files leave nothing behind', T, async () => {
    const s = await setup(D);
    await s.mkdir('dir');
    await s.put('f.txt', 'file f');
    const good = [
      { path: 'ok1.txt', content: 'one' },
      { path: 'ok2/nested.txt', content: 'two' },
      { path: 'max.txt', content: fill(MiB, 'm') },
    ];
    const bad = [
      ['../x', 'x'], ['/abs', 'x'], ['a//b', 'x'], ['', 'x'], ['trailing/', 'x'], ['newdir/../x', 'x'], ['./y', 'x'],
      ['ctl\u0001.txt', 'x'], ['dir', 'a file where a folder is'], ['f.txt/child.txt', 'below a file'],
      ['f.txt/sub/deep.txt', 'below a file, two levels'],
    ].map(([path, content]) => ({ path, content }));
    const nul = { path: 'bin/blob.dat', content: 'PK\u0003\u0004\u0000\u0000binary' };
    const large = { path: 'big/large.txt', content: fill(MiB + 1, 'l') };
    const files = [good[0], ...bad.slice(0, 6), nul, good[1], ...bad.slice(6), large, good[2]];
    const body = expectImported(await s.bulk(files, { timeout: 30_000 }), 3, 'mixed import');

    const skipped = Object.fromEntries(body.skipped.map((x) => [x.path, x.reason]));
    assert.deepEqual(Object.keys(skipped).sort(), [...bad, nul, large].map((f) => f.path).sort(),
      `every bad file is skipped once, by its path: ${JSON.stringify(body.skipped)}`);
    assert.equal(body.skipped.length, bad.length + 2, JSON.stringify(body.skipped));
    assert.equal(skipped['bin/blob.dat'], 'not a text file');
    assert.equal(skipped['big/large.txt'], 'larger than 1 MiB');

    for (const f of good) assert.equal(await s.content(f.path), f.content, f.path);
    const tree = await s.paths();
    assert.deepEqual(Object.keys(tree).sort(), ['dir', 'f.txt', 'max.txt', 'ok1.txt', 'ok2', 'ok2/nested.txt'],
      'no folder or file of a skipped entry is left behind');
    assert.equal(tree.dir.type, 'folder', 'the folder in the way is still a folder');
    assert.equal(await s.content('f.txt'), 'file f', 'the file in the way is unchanged');
  });

  test('file size counts UTF-8 bytes: 1 MiB of "é" is written, one byte more is skipped', T, async () => {
    const s = await setup(D);
    const exact = fill(MiB / 2, 'é');
    assert.equal(Buffer.byteLength(exact), MiB);
    const body = expectImported(await s.bulk([{ path: 'exact.txt', content: exact }, { path: 'over.txt', content: `${exact}x` }],
      { timeout: 30_000 }), 1, 'byte sizes');
    assert.deepEqual(body.skipped, [{ path: 'over.txt', reason: 'larger than 1 MiB' }]);
    assert.equal(await s.content('exact.txt'), exact);
    expectStatus(await s.read('over.txt'), 404, 'over.txt not written');
  });

  // JSON cannot carry raw invalid UTF-8, and the server's parser refuses a lone surrogate escape
  // (what JSON.stringify writes for a JS string holding one) like any other body that is not
  // valid Unicode text: the whole request is a 400 and nothing is written.
  test('a lone surrogate in a content makes the whole body invalid JSON: 400, nothing written', T, async () => {
    const s = await setup(D);
    const raw = JSON.stringify({ files: [{ path: 'ok.txt', content: 'fine' }, { path: 'bad.txt', content: 'a\udc00b' }] });
    assert.match(raw, /\\udc00/, 'JSON.stringify escapes the lone surrogate');
    const res = await s.c.req('POST', `${s.P}/files/bulk`, { raw });
    expectStatus(res, 400, 'lone surrogate');
    expectStatus(await s.read('ok.txt'), 404, 'ok.txt not written');
    expectStatus(await s.read('bad.txt'), 404, 'bad.txt not written');
  });

  test('the body may exceed the general 1 MiB (3 × 1 MiB is written); PUT content keeps the 1 MiB limit', T, async () => {
    const s = await setup(D);
    const files = ['a', 'b', 'c'].map((n) => ({ path: `big/${n}.txt`, content: fill(MiB, n) }));
    expectImported(await s.bulk(files, { timeout: 30_000 }), 3, '~3 MiB body');
    for (const f of files) assert.equal((await s.content(f.path)).length, MiB, f.path);
    const put = await s.c.put(`${s.P}/files/content`, { path: 'put.txt', content: fill(MiB + 1000) });
    expectStatus(put, 413, 'PUT content over 1 MiB');
  });

  test('a body over 16 MiB -> 413 request_body_bytes, nothing written; just under 16 MiB is written', T, async () => {
    const s = await setup(D);
    const files = (n) => Array.from({ length: n }, (_, i) => ({ path: `f${String(i).padStart(2, '0')}.txt`, content: fill(1_000_000, String.fromCharCode(97 + i)) }));
    const over = files(17); // 17,000,000+ bytes > 16,777,216
    assert.ok(Buffer.byteLength(JSON.stringify({ files: over })) > 16 * MiB);
    expectLimit(await s.bulk(over, { timeout: 30_000 }), 413, 'request_body_bytes', '17 MB body');
    assert.deepEqual(await s.list(), [], 'nothing written');
    const under = files(16); // 16,000,000+ bytes < 16,777,216
    assert.ok(Buffer.byteLength(JSON.stringify({ files: under })) < 16 * MiB);
    expectImported(await s.bulk(under, { timeout: 30_000 }), 16, '16 MB body');
    assert.equal((await s.list()).length, 16);
  });

  test('one transaction: listings taken while 1,000 files are imported see none or all of them', T, async (t) => {
    const s = await setup(D);
    const files = Array.from({ length: 1000 }, (_, i) => ({ path: `d${i % 10}/f${i}.txt`, content: `file ${i}\n`.repeat(50) }));
    const total = 1000 + 10;
    const seen = [];
    let done = false;
    const importing = s.bulk(files, { timeout: 30_000 }).finally(() => { done = true; });
    const observers = Array.from({ length: 4 }, async () => {
      while (!done) seen.push((await s.list()).length);
    });
    const res = await importing;
    await Promise.all(observers);
    expectImported(res, 1000, '1,000 files');
    t.diagnostic(`${seen.length} listings during the import: ${seen.filter((n) => n === 0).length} saw none, ${seen.filter((n) => n === total).length} saw all`);
    for (const n of seen) assert.ok(n === 0 || n === total, `a listing saw ${n} items: a half-written import (seen: ${JSON.stringify(seen.slice(0, 50))})`);
    assert.equal((await s.list()).length, total);
  });

  const badBodies = [
    ['empty object', '{}'],
    ['files: object', '{"files":{"path":"a","content":"x"}}'],
    ['files: string', '{"files":"a.txt"}'],
    ['files: null', '{"files":null}'],
    ['files: number', '{"files":1}'],
    ['entry a number', '{"files":[1]}'],
    ['entry a string', '{"files":["a.txt"]}'],
    ['entry null', '{"files":[null]}'],
    ['entry an array', '{"files":[["a.txt","x"]]}'],
    ['entry without content', '{"files":[{"path":"a.txt"}]}'],
    ['entry without path', '{"files":[{"content":"x"}]}'],
    ['path: number', '{"files":[{"path":5,"content":"x"}]}'],
    ['path: null', '{"files":[{"path":null,"content":"x"}]}'],
    ['content: null', '{"files":[{"path":"a.txt","content":null}]}'],
    ['content: number', '{"files":[{"path":"a.txt","content":5}]}'],
    ['content: object', '{"files":[{"path":"a.txt","content":{"a":1}}]}'],
    ['a valid entry then a bad one', '{"files":[{"path":"ok.txt","content":"x"},{"path":"b.txt","content":5}]}'],
    ['body an array', '[{"path":"a.txt","content":"x"}]'],
    ['malformed JSON', '{"files":[{"path":"a.txt","content":"x"}'],
    ['empty body', ''],
  ];
  for (const [what, raw] of badBodies) {
    test(`400 for ${what}; nothing written`, T, async () => {
      const s = await setup(D);
      expectStatus(await s.c.req('POST', `${s.P}/files/bulk`, { raw }), 400, `POST ${raw}`);
      assert.deepEqual(await s.list(), [], 'nothing written');
    });
  }

  test('401 without or with a bad token (POST and GET); nothing written', T, async () => {
    const s = await setup(D);
    const body = { files: [{ path: 'a.txt', content: 'x' }] };
    for (const auth of [undefined, 'Bearer nope', `Bearer ${D.token('u', { exp: Math.floor(Date.now() / 1000) - 60 })}`]) {
      const opts = auth ? { auth } : {};
      expectStatus(await request(D.server, 'POST', `${s.P}/files/bulk`, { body, ...opts }), 401, `POST with auth ${auth}`);
      expectStatus(await request(D.server, 'GET', `${s.P}/files/bulk`, opts), 401, `GET with auth ${auth}`);
    }
    assert.deepEqual(await s.list(), []);
  });

  test('another user\'s project -> 404 (POST and GET), nothing written or leaked; unknown -> 404; bad id -> 400', T, async () => {
    const owner = await setup(D);
    await owner.put('secret.txt', 'owner only');
    const other = D.client(newUser());
    const r1 = await other.post(`${owner.P}/files/bulk`, { files: [{ path: 'intruder.txt', content: 'x' }, { path: 'secret.txt', content: 'overwritten' }] });
    expectStatus(r1, 404, 'POST into another user\'s project');
    const r2 = await other.get(`${owner.P}/files/bulk`);
    expectStatus(r2, 404, 'GET another user\'s project');
    assert.ok(!r2.text.includes('owner only'), 'no content leaks');
    assert.deepEqual(Object.keys(await owner.paths()), ['secret.txt']);
    assert.equal(await owner.content('secret.txt'), 'owner only');

    const unknown = `/api/projects/${fakeId('prj', owner.projectId)}/files/bulk`;
    expectStatus(await owner.c.post(unknown, { files: [] }), 404, 'POST unknown project');
    expectStatus(await owner.c.get(unknown), 404, 'GET unknown project');
    for (const bad of ['xyz', retag(owner.projectId, 'cnv'), retag(owner.projectId, 'fil')]) {
      expectStatus(await owner.c.post(`/api/projects/${bad}/files/bulk`, { files: [] }), 400, `POST bulk of ${bad}`);
      expectStatus(await owner.c.get(`/api/projects/${bad}/files/bulk`), 400, `GET bulk of ${bad}`);
    }
  });
});

describe('GET files/bulk: the whole tree', () => {
  const D = useServer();

  test('a new project -> {files: []}', T, async () => {
    const s = await setup(D);
    assert.deepEqual(await s.exportTree(), []);
  });

  test('every file and folder with its path, sorted by path; files with content, folders without', T, async () => {
    const s = await setup(D);
    await s.put('b.txt', 'bee');
    await s.put('a.txt', '');
    await s.put('a-b/x.js', 'dash');
    await s.put('src/lib/util.js', 'export {}');
    await s.put('src/index.js', 'main');
    await s.put('B.md', 'capital');
    await s.mkdir('empty/inner');
    const tree = await s.exportTree();
    const expected = [
      { path: 'B.md', type: 'file', content: 'capital' },
      { path: 'a-b', type: 'folder' },
      { path: 'a-b/x.js', type: 'file', content: 'dash' },
      { path: 'a.txt', type: 'file', content: '' },
      { path: 'b.txt', type: 'file', content: 'bee' },
      { path: 'empty', type: 'folder' },
      { path: 'empty/inner', type: 'folder' },
      { path: 'src', type: 'folder' },
      { path: 'src/index.js', type: 'file', content: 'main' },
      { path: 'src/lib', type: 'folder' },
      { path: 'src/lib/util.js', type: 'file', content: 'export {}' },
    ];
    assert.deepEqual(tree, expected);
    assert.deepEqual(tree.map((f) => f.path), [...tree].sort(byPath).map((f) => f.path), 'sorted by path');
    for (const f of tree) {
      if (f.type === 'folder') assert.equal('content' in f, false, `folders carry no content: ${JSON.stringify(f)}`);
    }
  });

  test('renames and deletes show in the next export', T, async () => {
    const s = await setup(D);
    await s.put('old/a.txt', 'a');
    await s.put('gone.txt', 'g');
    const tree0 = await s.paths();
    expectOk(await s.c.patch(`/api/files/${tree0.old._id}`, { name: 'new' }), 'rename folder');
    expectOk(await s.c.del(`/api/files/${tree0['gone.txt']._id}`), 'delete file');
    assert.deepEqual(await s.exportTree(), [
      { path: 'new', type: 'folder' },
      { path: 'new/a.txt', type: 'file', content: 'a' },
    ]);
  });

  test('export, then import into a new project, gives the same files', T, async () => {
    const a = await setup(D, 'source');
    expectImported(await a.bulk([
      { path: 'src/app.tsx', content: 'export default function App() { return null; }\n' },
      { path: 'src/styles/app.css', content: 'body { margin: 0 }\n' },
      { path: 'package.json', content: '{"name":"x"}\n' },
      { path: 'unicode/日本語.md', content: '🚀 naïve\u0001\u001f' },
      { path: '.env', content: '' },
    ]), 5, 'seed');
    await a.mkdir('empty');
    const exported = await a.exportTree();
    const b = projectHelpers(a.c, expectOk(await a.c.post('/api/projects', { name: 'copy' })).projectId);
    const files = exported.filter((f) => f.type === 'file').map(({ path, content }) => ({ path, content }));
    expectImported(await b.bulk(files), files.length, 'import the export');
    const copied = await b.exportTree();
    assert.deepEqual(copied, exported.filter((f) => f.path !== 'empty'), 'same files and folders (the empty folder is not a file)');
  });

  test('Convex query files:getTree answers the tree without content', T, async () => {
    const s = await setup(D);
    expectImported(await s.bulk([{ path: 'a/b.txt', content: 'secret content' }, { path: 'c.txt', content: 'more content' }]), 2, 'seed');
    const res = await request(D.server, 'POST', '/api/query', {
      token: s.c.token,
      body: { path: 'files:getTree', format: 'convex_encoded_json', args: [{ projectId: s.projectId }] },
      headers: { 'convex-client': 'npm-1.48.0' },
    });
    assert.equal(res.status, 200, describeRes(res));
    assert.equal(res.json.status, 'success', describeRes(res));
    const docs = res.json.value;
    assert.ok(Array.isArray(docs), describeRes(res));
    assert.equal(docs.length, 3, describeRes(res));
    for (const d of docs) assert.equal('content' in d, false, `getTree documents carry no content: ${JSON.stringify(d)}`);
    assert.ok(!res.text.includes('secret content') && !res.text.includes('more content'), 'no content anywhere in the answer');
    const listed = await s.list();
    const key = (x) => x._id;
    assert.deepEqual([...docs].sort((x, y) => (key(x) < key(y) ? -1 : 1)), [...listed].sort((x, y) => (key(x) < key(y) ? -1 : 1)),
      'the same documents as GET files');
  });
});

// ------------------------------------------------------------------------------------------
// Quotas and import limits.

describe('POST files/bulk: a full quota refuses the whole import (files 3, project 10,000 bytes)', () => {
  const Q = useServer({ env: { POLARIS_MAX_FILES_PER_PROJECT: 3, POLARIS_MAX_PROJECT_BYTES: 10_000 } });

  test('files_per_project: 4 files -> 409, nothing written; 3 items fit; an upsert in a refused import is rolled back', T, async () => {
    const s = await setup(Q);
    const four = ['a', 'b', 'c', 'd'].map((n) => ({ path: `${n}.txt`, content: n }));
    expectLimit(await s.bulk(four), 409, 'files_per_project', '4 files');
    assert.deepEqual(await s.list(), [], 'nothing written');

    expectImported(await s.bulk([{ path: 'x/y.txt', content: 'y' }, { path: 'z.txt', content: 'z1' }]), 2, 'three items (a folder and two files)');
    expectLimit(await s.bulk([{ path: 'z.txt', content: 'z2' }, { path: 'new.txt', content: 'n' }]), 409, 'files_per_project',
      'an upsert and a fourth item');
    assert.equal(await s.content('z.txt'), 'z1', 'the upsert before the refused item is rolled back');
    assert.deepEqual(Object.keys(await s.paths()).sort(), ['x', 'x/y.txt', 'z.txt']);
    expectImported(await s.bulk([{ path: 'z.txt', content: 'z3' }, { path: 'x/y.txt', content: 'y3' }]), 2, 'upserts create nothing');
    assert.equal(await s.content('z.txt'), 'z3');
  });

  test('skipped files do not count toward the quota', T, async () => {
    const s = await setup(Q);
    const body = expectImported(await s.bulk([
      { path: 'a.txt', content: 'a' }, { path: '../evil', content: 'x' }, { path: 'b.txt', content: 'b' },
      { path: 'bin', content: '\u0000' }, { path: 'c.txt', content: 'c' },
    ]), 3, 'three files and two skipped');
    assert.deepEqual(body.skipped.map((x) => x.path).sort(), ['../evil', 'bin']);
    assert.equal((await s.list()).length, 3);
  });

  test('project_bytes: an import past 10,000 bytes -> 413, nothing written, earlier files unchanged', T, async () => {
    const s = await setup(Q);
    expectLimit(await s.bulk([{ path: 'a.txt', content: fill(6000) }, { path: 'b.txt', content: fill(6000) }]), 413,
      'project_bytes', '12,000 bytes');
    assert.deepEqual(await s.list(), [], 'nothing written, not even the first file');
    expectImported(await s.bulk([{ path: 'a.txt', content: fill(6000) }]), 1, '6,000 bytes');
    expectLimit(await s.bulk([{ path: 'b.txt', content: fill(3000) }, { path: 'a.txt', content: fill(8000) }]), 413,
      'project_bytes', 'a file that fits, then a replacement that does not');
    assert.deepEqual(Object.keys(await s.paths()), ['a.txt'], 'b.txt rolled back');
    assert.equal((await s.content('a.txt')).length, 6000);
    expectImported(await s.bulk([{ path: 'b.txt', content: fill(4000) }]), 1, 'exactly 10,000 bytes');
  });
});

describe('POST files/bulk: POLARIS_MAX_IMPORT_BYTES=200000, POLARIS_MAX_IMPORT_FILE_BYTES=2048', () => {
  const L = useServer({ env: { POLARIS_MAX_IMPORT_BYTES: 200_000, POLARIS_MAX_IMPORT_FILE_BYTES: 2048 } });

  /** A body of exactly `size` bytes: one small file, padded with JSON white space. */
  function bodyOf(size) {
    const json = JSON.stringify({ files: [{ path: 'pad.txt', content: 'p' }] });
    return json + ' '.repeat(size - json.length);
  }

  test('a body of exactly 200,000 bytes is taken; 200,001 -> 413 request_body_bytes', T, async () => {
    const s = await setup(L);
    expectLimit(await s.c.req('POST', `${s.P}/files/bulk`, { raw: bodyOf(200_001) }), 413, 'request_body_bytes', '200,001 bytes');
    assert.deepEqual(await s.list(), []);
    expectImported(await s.c.req('POST', `${s.P}/files/bulk`, { raw: bodyOf(200_000) }), 1, '200,000 bytes');
  });

  test('files over 2048 bytes are skipped ("larger than …"), 2048 bytes are written', T, async (t) => {
    const s = await setup(L);
    const body = expectImported(await s.bulk([{ path: 'ok.txt', content: fill(2048) }, { path: 'big.txt', content: fill(2049) }]),
      1, '2048 and 2049 bytes');
    assert.equal(body.skipped.length, 1, JSON.stringify(body.skipped));
    assert.equal(body.skipped[0].path, 'big.txt');
    assert.match(body.skipped[0].reason, /^larger than /);
    t.diagnostic(`reason: ${body.skipped[0].reason}`);
    assert.equal((await s.content('ok.txt')).length, 2048);
  });
});

// ------------------------------------------------------------------------------------------
// POST /api/messages 409: the running message's conversation.

describe('POST /api/messages 409 names the running message and its conversation', () => {
  const M = useMockedServer({ mocks: 1 });

  test('409 {messageId, conversationId} in the same conversation and from another conversation of the project', T, async () => {
    await M.resetMocks();
    const c = M.client();
    const { projectId, conversationId } = await newChat(c, { title: 'Running chat' });
    const second = (await newChat(c, { projectId, title: 'Second chat' })).conversationId;
    await M.primary.script([{ type: 'text', text: words(30), chunks: 15, delayMs: 100 }]);
    const first = await postMessage(c, conversationId, 'slow one');
    await waitFor(async () => (await M.primary.requests()).length >= 1, { what: 'the run to reach the provider' });

    for (const [what, cid] of [['same conversation', conversationId], ['other conversation, same project', second]]) {
      const res = await c.post('/api/messages', { conversationId: cid, message: 'again' });
      assert.deepEqual(
        { status: res.status, messageId: res.json?.messageId, conversationId: res.json?.conversationId },
        { status: 409, messageId: first.messageId, conversationId },
        `${what}: 409 naming the running message and its conversation, got ${describeRes(res)}`);
      expectStatus(res, 409, what);
      assert.equal(res.json.error, 'A message is already being processed', what);
    }
    assert.deepEqual(await getMessages(c, second), [], 'the refused POST created nothing');
    await waitStatus(c, conversationId, first.messageId, 'completed');
    const next = await postMessage(c, second, 'now it is free');
    await waitStatus(c, second, next.messageId, 'completed');
  });
});

// Files and folders: upsert content, folders, list, rename, update, recursive delete, path rules,
// name conflicts, updatedAt bumps.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  useServer, expectStatus, expectOk, expectSuccess, expectId, fakeId, retag, newUser, sleep, describeRes,
} from './lib/server.mjs';

const ctx = useServer();

async function setup() {
  const c = ctx.client(newUser());
  const projectId = expectOk(await c.post('/api/projects', { name: 'files' }), 'create project').projectId;
  const P = `/api/projects/${projectId}`;
  const put = async (path, content) => expectOk(await c.put(`${P}/files/content`, { path, content }), `PUT ${path}`).fileId;
  const mkdir = async (path) => expectOk(await c.post(`${P}/folders`, { path }), `POST folders ${path}`).fileId;
  const read = (path) => c.get(`${P}/files/content?path=${encodeURIComponent(path)}`);
  const list = async () => expectOk(await c.get(`${P}/files`), 'GET files');
  const project = async () => expectOk(await c.get(P), 'GET project');
  return { c, projectId, P, put, mkdir, read, list, project };
}

/** Maps every file doc in `list` to its full path. */
function pathsOf(list) {
  const byId = new Map(list.map((f) => [f._id, f]));
  const full = (f) => {
    const parts = [];
    let cur = f;
    let guard = 0;
    while (cur) {
      parts.unshift(cur.name);
      cur = cur.parentId ? byId.get(cur.parentId) : undefined;
      if (++guard > 100_000) throw new Error('parentId cycle');
    }
    return parts.join('/');
  };
  return Object.fromEntries(list.map((f) => [full(f), f]));
}

describe('content upsert and read', () => {
  test('new project has no files: GET files -> []', async () => {
    const s = await setup();
    assert.deepEqual(await s.list(), []);
  });

  test('PUT content creates a file -> {fileId}; GET content returns {fileId, path, content}', async () => {
    const s = await setup();
    const res = await s.c.put(`${s.P}/files/content`, { path: 'hello.txt', content: 'Hello, world\n' });
    const body = expectOk(res, 'PUT hello.txt');
    assert.deepEqual(Object.keys(body), ['fileId'], `answer should be {fileId}, got ${describeRes(res)}`);
    expectId(body.fileId, 'fil', 'fileId');
    const got = expectOk(await s.read('hello.txt'), 'GET content');
    assert.deepEqual(got, { fileId: body.fileId, path: 'hello.txt', content: 'Hello, world\n' });
  });

  test('PUT on an existing path replaces content and keeps the id (upsert)', async () => {
    const s = await setup();
    const id1 = await s.put('a.txt', 'one');
    const id2 = await s.put('a.txt', 'two');
    assert.equal(id2, id1, 'upsert must keep the fileId');
    assert.equal(expectOk(await s.read('a.txt')).content, 'two');
    assert.equal((await s.list()).length, 1, 'no duplicate file row');
  });

  test('PUT creates missing parent folders; the tree is linked by parentId', async () => {
    const s = await setup();
    const id = await s.put('src/lib/util.js', 'export {}');
    const list = await s.list();
    assert.equal(list.length, 3, `expected src, src/lib, src/lib/util.js; got ${JSON.stringify(list)}`);
    const byPath = pathsOf(list);
    assert.deepEqual(Object.keys(byPath).sort(), ['src', 'src/lib', 'src/lib/util.js']);
    assert.equal(byPath.src.type, 'folder');
    assert.equal(byPath['src/lib'].type, 'folder');
    assert.equal(byPath['src/lib/util.js'].type, 'file');
    assert.equal(byPath['src/lib/util.js']._id, id);
    assert.ok(byPath.src.parentId === undefined || byPath.src.parentId === null, `root item must have no parentId, got ${byPath.src.parentId}`);
    assert.equal(byPath['src/lib'].parentId, byPath.src._id);
    assert.equal(byPath['src/lib/util.js'].parentId, byPath['src/lib']._id);
    // A second file reuses the existing folders.
    await s.put('src/lib/other.js', '');
    assert.equal((await s.list()).length, 4, 'existing folders must be reused, not duplicated');
    await s.put('src/main.js', 'x');
    assert.equal((await s.list()).length, 5);
  });

  test('file document shape', async () => {
    const s = await setup();
    const t0 = Date.now();
    const id = await s.put('doc.md', '# hi');
    const [doc] = await s.list();
    assert.equal(doc._id, id);
    assert.equal(doc.projectId, s.projectId);
    assert.equal(doc.name, 'doc.md');
    assert.equal(doc.type, 'file');
    assert.equal('content' in doc, false, 'listings carry metadata only (issue 9)');
    assert.equal(expectOk(await s.read('doc.md')).content, '# hi');
    assert.equal(typeof doc._creationTime, 'number');
    assert.ok(Math.abs(doc._creationTime - t0) < 60_000, `_creationTime in ms, got ${doc._creationTime}`);
    assert.equal(typeof doc.updatedAt, 'number');
  });

  test('empty content is allowed', async () => {
    const s = await setup();
    await s.put('empty.txt', '');
    assert.equal(expectOk(await s.read('empty.txt')).content, '');
  });

  test('unicode content and names round-trip', async () => {
    const s = await setup();
    const content = 'naïve café — 日本語 — 🚀🎉\r\n\ttabs and "quotes" and \\ backslashes\u2028';
    const id = await s.put('dossier/été 🚀.txt', content);
    const got = expectOk(await s.read('dossier/été 🚀.txt'));
    assert.deepEqual(got, { fileId: id, path: 'dossier/été 🚀.txt', content });
  });

  test('content with an embedded NUL character round-trips', async () => {
    const s = await setup();
    const content = 'before\u0000after';
    await s.put('nul.bin.txt', content);
    assert.equal(expectOk(await s.read('nul.bin.txt')).content, content, 'content must not be truncated at NUL');
  });

  test('large content (~900 KB) round-trips', async () => {
    const s = await setup();
    const content = 'abcdefghij'.repeat(90_000);
    await s.put('big.txt', content);
    const got = expectOk(await s.read('big.txt'));
    assert.equal(got.content.length, content.length);
    assert.equal(got.content, content);
  });

  test('names are case-sensitive: A.txt and a.txt are different files', async () => {
    const s = await setup();
    const a = await s.put('a.txt', 'lower');
    const A = await s.put('A.txt', 'upper');
    assert.notEqual(a, A);
    assert.equal(expectOk(await s.read('a.txt')).content, 'lower');
    assert.equal(expectOk(await s.read('A.txt')).content, 'upper');
  });

  test('the same name in different folders is fine', async () => {
    const s = await setup();
    const x = await s.put('one/index.js', '1');
    const y = await s.put('two/index.js', '2');
    assert.notEqual(x, y);
    assert.equal(expectOk(await s.read('one/index.js')).content, '1');
    assert.equal(expectOk(await s.read('two/index.js')).content, '2');
  });

  test('GET content of a missing path -> 404', async () => {
    const s = await setup();
    expectStatus(await s.read('nope.txt'), 404, 'missing file');
    await s.put('dir/x.txt', 'x');
    expectStatus(await s.read('dir/nope.txt'), 404, 'missing file in existing folder');
    expectStatus(await s.read('nodir/x.txt'), 404, 'missing folder');
    expectStatus(await s.read('dir/x.txt/y'), [404, 400], 'path below a file');
  });

  test('GET content of a folder path -> 4xx with a JSON error', async () => {
    const s = await setup();
    await s.mkdir('folder');
    const res = await s.read('folder');
    assert.ok(res.status >= 400 && res.status < 500, `GET content of a folder must be a 4xx, got ${describeRes(res)}`);
    expectStatus(res, res.status);
  });

  test('GET content without ?path -> 400', async () => {
    const s = await setup();
    expectStatus(await s.c.get(`${s.P}/files/content`), 400, 'no path query');
    expectStatus(await s.c.get(`${s.P}/files/content?path=`), 400, 'empty path query');
  });

  test('query path is percent-decoded (spaces, slashes, unicode)', async () => {
    const s = await setup();
    await s.put('my dir/a b+c.txt', 'ok');
    const got = expectOk(await s.c.get(`${s.P}/files/content?path=my%20dir%2Fa%20b%2Bc.txt`));
    assert.equal(got.content, 'ok');
    assert.equal(got.path, 'my dir/a b+c.txt');
  });

  for (const [what, raw] of [
    ['missing path', '{"content":"x"}'],
    ['missing content', '{"path":"a.txt"}'],
    ['path: 5', '{"path":5,"content":"x"}'],
    ['content: 5', '{"path":"a.txt","content":5}'],
    ['content: null', '{"path":"a.txt","content":null}'],
    ['content: object', '{"path":"a.txt","content":{"a":1}}'],
    ['malformed JSON', '{"path":"a.txt","content":'],
    ['body an array', '["a.txt","x"]'],
  ]) {
    test(`PUT content with ${what} -> 400`, async () => {
      const s = await setup();
      expectStatus(await s.c.req('PUT', `${s.P}/files/content`, { raw }), 400, `PUT ${raw}`);
      assert.deepEqual(await s.list(), [], 'nothing created');
    });
  }
});

describe('path rules', () => {
  const badPaths = [
    ['..', '..'], ['../x', '../x'], ['a/../b', 'a/../b'], ['a/..', 'a/..'], ['.', '.'], ['./a', './a'],
    ['a/./b', 'a/./b'], ['absolute', '/etc/passwd'], ['absolute root', '/'], ['empty', ''],
    ['empty segment', 'a//b'], ['trailing slash', 'a/'], ['NUL', 'a\u0000b'], ['newline', 'a\nb'],
    ['tab', 'a\tb'], ['carriage return', 'a\rb'], ['control 0x01', '\u0001x'], ['escape 0x1b', 'x\u001b[0m'],
    ['DEL 0x7f', 'x\u007f'],
  ];
  for (const [what, p] of badPaths) {
    test(`path rejected (${what}: ${JSON.stringify(p)}) -> 400 on PUT content, POST folders, GET content`, async () => {
      const s = await setup();
      expectStatus(await s.c.put(`${s.P}/files/content`, { path: p, content: 'x' }), 400, `PUT ${JSON.stringify(p)}`);
      expectStatus(await s.c.post(`${s.P}/folders`, { path: p }), 400, `mkdir ${JSON.stringify(p)}`);
      expectStatus(await s.read(p), 400, `GET content ${JSON.stringify(p)}`);
      assert.deepEqual(await s.list(), [], `nothing may be created for ${JSON.stringify(p)}`);
    });
  }

  test('path with a percent-encoded ../ in the query -> 400', async () => {
    const s = await setup();
    expectStatus(await s.c.get(`${s.P}/files/content?path=..%2F..%2Fetc%2Fpasswd`), 400);
    expectStatus(await s.c.get(`${s.P}/files/content?path=%2Fetc%2Fpasswd`), 400);
    expectStatus(await s.c.get(`${s.P}/files/content?path=a%00b`), 400);
  });

  test('names that merely contain dots are fine', async () => {
    const s = await setup();
    for (const p of ['.env', '..hidden', 'a..b', 'x/.gitignore', '...']) {
      await s.put(p, p);
      assert.equal(expectOk(await s.read(p)).content, p, p);
    }
  });

  test('path traversal never escapes: no file is written outside the project', async () => {
    const s = await setup();
    await s.put('inside.txt', 'x');
    expectStatus(await s.c.put(`${s.P}/files/content`, { path: '../inside.txt', content: 'evil' }), 400);
    assert.equal(expectOk(await s.read('inside.txt')).content, 'x');
  });
});

describe('folders', () => {
  test('POST folders {path} -> {fileId}, creating parents', async () => {
    const s = await setup();
    const res = await s.c.post(`${s.P}/folders`, { path: 'docs/api/v1' });
    const body = expectOk(res, 'mkdir docs/api/v1');
    expectId(body.fileId, 'fil');
    const byPath = pathsOf(await s.list());
    assert.deepEqual(Object.keys(byPath).sort(), ['docs', 'docs/api', 'docs/api/v1']);
    for (const f of Object.values(byPath)) assert.equal(f.type, 'folder');
    assert.equal(byPath['docs/api/v1']._id, body.fileId);
  });

  test('creating a folder that already exists -> 409', async () => {
    const s = await setup();
    await s.mkdir('docs');
    expectStatus(await s.c.post(`${s.P}/folders`, { path: 'docs' }), 409, 'mkdir twice');
    await s.mkdir('a/b');
    expectStatus(await s.c.post(`${s.P}/folders`, { path: 'a/b' }), 409, 'mkdir nested twice');
    assert.equal((await s.list()).length, 3);
  });

  test('creating a subfolder of an existing folder reuses the parent', async () => {
    const s = await setup();
    const a = await s.mkdir('a');
    await s.mkdir('a/b');
    const byPath = pathsOf(await s.list());
    assert.equal(byPath.a._id, a);
    assert.equal(byPath['a/b'].parentId, a);
  });

  test('a file and a folder may not share a path', async () => {
    const s = await setup();
    await s.mkdir('thing');
    expectStatus(await s.c.put(`${s.P}/files/content`, { path: 'thing', content: 'x' }), 409, 'PUT file where a folder exists');
    await s.put('file.txt', 'x');
    expectStatus(await s.c.post(`${s.P}/folders`, { path: 'file.txt' }), 409, 'mkdir where a file exists');
    const list = await s.list();
    assert.equal(list.length, 2, `still exactly one folder and one file: ${JSON.stringify(list)}`);
    assert.equal(expectOk(await s.read('file.txt')).content, 'x');
  });

  test('a path through a file is refused (file used as a folder)', async () => {
    const s = await setup();
    await s.put('f.txt', 'x');
    const r1 = await s.c.put(`${s.P}/files/content`, { path: 'f.txt/child.txt', content: 'y' });
    assert.ok([400, 409].includes(r1.status), `PUT below a file: expected 409 (or 400), got ${describeRes(r1)}`);
    expectStatus(r1, r1.status);
    const r2 = await s.c.post(`${s.P}/folders`, { path: 'f.txt/sub' });
    assert.ok([400, 409].includes(r2.status), `mkdir below a file: expected 409 (or 400), got ${describeRes(r2)}`);
    expectStatus(r2, r2.status);
    assert.equal((await s.list()).length, 1);
  });

  for (const [what, raw] of [['missing path', '{}'], ['path: 5', '{"path":5}'], ['path: null', '{"path":null}'], ['malformed', '{"path"']]) {
    test(`POST folders with ${what} -> 400`, async () => {
      const s = await setup();
      expectStatus(await s.c.req('POST', `${s.P}/folders`, { raw }), 400, `mkdir ${raw}`);
    });
  }
});

describe('PATCH /api/files/:id', () => {
  test('{content} updates content -> {success:true}', async () => {
    const s = await setup();
    const id = await s.put('a.txt', 'v1');
    expectSuccess(await s.c.patch(`/api/files/${id}`, { content: 'v2' }), 'PATCH content');
    assert.equal(expectOk(await s.read('a.txt')).content, 'v2');
  });

  test('{name} renames in place; old path 404, new path has the same id and content', async () => {
    const s = await setup();
    const id = await s.put('dir/old.txt', 'keep me');
    expectSuccess(await s.c.patch(`/api/files/${id}`, { name: 'new.txt' }), 'rename');
    expectStatus(await s.read('dir/old.txt'), 404, 'old path');
    assert.deepEqual(expectOk(await s.read('dir/new.txt')), { fileId: id, path: 'dir/new.txt', content: 'keep me' });
  });

  test('renaming a folder moves its subtree', async () => {
    const s = await setup();
    await s.put('src/a/b.txt', 'deep');
    const src = pathsOf(await s.list()).src._id;
    expectSuccess(await s.c.patch(`/api/files/${src}`, { name: 'lib' }), 'rename folder');
    expectStatus(await s.read('src/a/b.txt'), 404);
    assert.equal(expectOk(await s.read('lib/a/b.txt')).content, 'deep');
  });

  test('renaming to the same name it already has is not a conflict', async () => {
    const s = await setup();
    const id = await s.put('same.txt', 'x');
    const res = await s.c.patch(`/api/files/${id}`, { name: 'same.txt' });
    expectSuccess(res, 'rename to own name');
  });

  test('rename to a sibling file name -> 409; nothing changes', async () => {
    const s = await setup();
    const a = await s.put('a.txt', 'A');
    await s.put('b.txt', 'B');
    expectStatus(await s.c.patch(`/api/files/${a}`, { name: 'b.txt' }), 409, 'rename onto sibling');
    assert.equal(expectOk(await s.read('a.txt')).content, 'A');
    assert.equal(expectOk(await s.read('b.txt')).content, 'B');
  });

  test('rename a folder to a sibling folder name -> 409', async () => {
    const s = await setup();
    const x = await s.mkdir('x');
    await s.mkdir('y');
    expectStatus(await s.c.patch(`/api/files/${x}`, { name: 'y' }), 409);
  });

  test('rename a file to a sibling folder name (and vice versa) -> 409', async () => {
    const s = await setup();
    const f = await s.put('thing.txt', 'x');
    const d = await s.mkdir('dir');
    expectStatus(await s.c.patch(`/api/files/${f}`, { name: 'dir' }), 409, 'file onto folder name');
    expectStatus(await s.c.patch(`/api/files/${d}`, { name: 'thing.txt' }), 409, 'folder onto file name');
  });

  test('rename to a name used in another folder is fine', async () => {
    const s = await setup();
    const a = await s.put('one/a.txt', '1');
    await s.put('two/b.txt', '2');
    expectSuccess(await s.c.patch(`/api/files/${a}`, { name: 'b.txt' }));
    assert.equal(expectOk(await s.read('one/b.txt')).content, '1');
  });

  for (const [what, name] of [['empty', ''], ['slash', 'a/b'], ['..', '..'], ['.', '.'], ['NUL', 'a\u0000'], ['newline', 'a\nb'], ['control', '\u0007']]) {
    test(`rename to an invalid name (${what}) -> 400`, async () => {
      const s = await setup();
      const id = await s.put('keep.txt', 'x');
      expectStatus(await s.c.patch(`/api/files/${id}`, { name }), 400, `rename to ${JSON.stringify(name)}`);
      assert.equal(expectOk(await s.read('keep.txt')).content, 'x');
    });
  }

  for (const [what, raw] of [['empty object', '{}'], ['name: 5', '{"name":5}'], ['content: 5', '{"content":5}'], ['content: null', '{"content":null}'], ['malformed', '{"content":"x"'], ['array', '[]']]) {
    test(`PATCH file with ${what} -> 400`, async () => {
      const s = await setup();
      const id = await s.put('a.txt', 'orig');
      expectStatus(await s.c.req('PATCH', `/api/files/${id}`, { raw }), 400, `PATCH ${raw}`);
      assert.equal(expectOk(await s.read('a.txt')).content, 'orig');
    });
  }

  test('PATCH/DELETE unknown file -> 404; malformed -> 400; other table id -> 400', async () => {
    const s = await setup();
    expectStatus(await s.c.patch(`/api/files/${fakeId('fil')}`, { content: 'x' }), 404);
    expectStatus(await s.c.del(`/api/files/${fakeId('fil')}`), 404);
    expectStatus(await s.c.patch('/api/files/bogus', { content: 'x' }), 400);
    expectStatus(await s.c.del('/api/files/bogus'), 400);
    expectStatus(await s.c.patch(`/api/files/${s.projectId}`, { content: 'x' }), 400, 'project id as file id');
    expectStatus(await s.c.del(`/api/files/${retag(s.projectId, 'cnv')}`), 400, 'conversation id as file id');
  });
});

describe('DELETE /api/files/:id', () => {
  test('deleting a file -> {success:true}; it is gone', async () => {
    const s = await setup();
    const id = await s.put('a.txt', 'x');
    const keep = await s.put('b.txt', 'y');
    expectSuccess(await s.c.del(`/api/files/${id}`), 'DELETE file');
    expectStatus(await s.read('a.txt'), 404);
    assert.deepEqual((await s.list()).map((f) => f._id), [keep]);
    expectStatus(await s.c.del(`/api/files/${id}`), 404, 'delete twice');
    expectStatus(await s.c.patch(`/api/files/${id}`, { content: 'z' }), 404, 'patch deleted');
  });

  test('deleting a folder deletes all descendants', async () => {
    const s = await setup();
    const deep = await s.put('src/a/b/c.txt', 'c');
    await s.put('src/x.txt', 'x');
    await s.mkdir('src/empty');
    await s.put('keep/k.txt', 'k');
    const byPath = pathsOf(await s.list());
    expectSuccess(await s.c.del(`/api/files/${byPath.src._id}`), 'DELETE folder');
    const after = pathsOf(await s.list());
    assert.deepEqual(Object.keys(after).sort(), ['keep', 'keep/k.txt'], `only keep/ must remain, got ${Object.keys(after)}`);
    expectStatus(await s.read('src/a/b/c.txt'), 404);
    expectStatus(await s.c.patch(`/api/files/${deep}`, { content: 'zombie' }), 404, 'descendant id is gone');
    expectStatus(await s.c.del(`/api/files/${byPath['src/a']._id}`), 404, 'descendant folder is gone');
  });

  test('a deleted path can be created again', async () => {
    const s = await setup();
    const d = await s.mkdir('re');
    expectSuccess(await s.c.del(`/api/files/${d}`));
    const f = await s.put('re', 'now a file');
    assert.notEqual(f, d);
    assert.equal(expectOk(await s.read('re')).content, 'now a file');
  });
});

describe('updatedAt bumps', () => {
  async function bumped(s, what, fn) {
    const before = await s.project();
    await sleep(5);
    await fn();
    const after = await s.project();
    assert.ok(after.updatedAt > before.updatedAt, `${what} must bump project.updatedAt (${before.updatedAt} -> ${after.updatedAt})`);
  }

  test('PUT new file bumps project.updatedAt', async () => {
    const s = await setup();
    await bumped(s, 'PUT new file', () => s.put('a.txt', 'x'));
  });
  test('PUT existing file bumps project.updatedAt and file.updatedAt', async () => {
    const s = await setup();
    await s.put('a.txt', 'x');
    const f0 = (await s.list())[0];
    await bumped(s, 'PUT upsert', () => s.put('a.txt', 'y'));
    const f1 = (await s.list())[0];
    assert.ok(f1.updatedAt > f0.updatedAt, `file.updatedAt must bump (${f0.updatedAt} -> ${f1.updatedAt})`);
    assert.equal(f1._creationTime, f0._creationTime);
  });
  test('PATCH content bumps project.updatedAt and file.updatedAt', async () => {
    const s = await setup();
    const id = await s.put('a.txt', 'x');
    const f0 = (await s.list())[0];
    await bumped(s, 'PATCH content', async () => expectSuccess(await s.c.patch(`/api/files/${id}`, { content: 'z' })));
    const f1 = (await s.list())[0];
    assert.ok(f1.updatedAt > f0.updatedAt, 'file.updatedAt must bump');
  });
  test('rename bumps project.updatedAt', async () => {
    const s = await setup();
    const id = await s.put('a.txt', 'x');
    await bumped(s, 'rename', async () => expectSuccess(await s.c.patch(`/api/files/${id}`, { name: 'b.txt' })));
  });
  test('mkdir bumps project.updatedAt', async () => {
    const s = await setup();
    await bumped(s, 'mkdir', () => s.mkdir('d'));
  });
  test('delete bumps project.updatedAt', async () => {
    const s = await setup();
    const id = await s.put('a.txt', 'x');
    await bumped(s, 'delete file', async () => expectSuccess(await s.c.del(`/api/files/${id}`)));
  });
  test('a rejected write does not bump project.updatedAt', async () => {
    const s = await setup();
    await s.put('a.txt', 'x');
    const before = await s.project();
    await sleep(5);
    expectStatus(await s.c.put(`${s.P}/files/content`, { path: '../a', content: 'x' }), 400);
    expectStatus(await s.c.post(`${s.P}/folders`, { path: 'a.txt' }), 409);
    const after = await s.project();
    assert.equal(after.updatedAt, before.updatedAt);
  });
});

describe('project ids on file routes', () => {
  test('unknown project -> 404; malformed -> 400; conversation id -> 400', async () => {
    const s = await setup();
    const unknown = `/api/projects/${fakeId('prj')}`;
    expectStatus(await s.c.get(`${unknown}/files`), 404);
    expectStatus(await s.c.get(`${unknown}/files/content?path=a`), 404);
    expectStatus(await s.c.put(`${unknown}/files/content`, { path: 'a', content: '' }), 404);
    expectStatus(await s.c.post(`${unknown}/folders`, { path: 'a' }), 404);
    for (const bad of ['xyz', retag(s.projectId, 'cnv'), retag(s.projectId, 'fil')]) {
      expectStatus(await s.c.get(`/api/projects/${bad}/files`), 400, `files of ${bad}`);
      expectStatus(await s.c.get(`/api/projects/${bad}/files/content?path=a`), 400, `content of ${bad}`);
      expectStatus(await s.c.put(`/api/projects/${bad}/files/content`, { path: 'a', content: '' }), 400, `PUT in ${bad}`);
      expectStatus(await s.c.post(`/api/projects/${bad}/folders`, { path: 'a' }), 400, `mkdir in ${bad}`);
    }
  });

  test('files of one project are not visible in another project of the same user', async () => {
    const s = await setup();
    await s.put('only-here.txt', 'x');
    const other = expectOk(await s.c.post('/api/projects', { name: 'other' })).projectId;
    assert.deepEqual(expectOk(await s.c.get(`/api/projects/${other}/files`)), []);
    expectStatus(await s.c.get(`/api/projects/${other}/files/content?path=only-here.txt`), 404);
  });
});

describe('concurrency', () => {
  test('20 concurrent PUTs of the same new path create exactly one file', async () => {
    const s = await setup();
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) =>
      s.c.put(`${s.P}/files/content`, { path: 'race/x.txt', content: `v${i}` })));
    for (const r of results) expectOk(r, 'concurrent PUT');
    const ids = new Set(results.map((r) => r.json.fileId));
    assert.equal(ids.size, 1, `all upserts must hit one file, got ids ${[...ids]}`);
    const byPath = pathsOf(await s.list());
    assert.deepEqual(Object.keys(byPath).sort(), ['race', 'race/x.txt']);
  });

  test('20 concurrent mkdirs of one path: exactly one 200, the rest 409', async () => {
    const s = await setup();
    const results = await Promise.all(Array.from({ length: 20 }, () => s.c.post(`${s.P}/folders`, { path: 'same' })));
    const statuses = results.map((r) => r.status);
    assert.equal(statuses.filter((x) => x === 200).length, 1, `statuses: ${statuses}`);
    assert.equal(statuses.filter((x) => x === 409).length, 19, `statuses: ${statuses}`);
    assert.equal((await s.list()).length, 1);
  });
});

describe('edge cases', () => {
  test('every control character and odd code point in content round-trips', async () => {
    const s = await setup();
    let content = '';
    for (let i = 0; i < 0x20; i++) content += String.fromCharCode(i);
    content += '\u007f\u0080\u00ff\u2028\u2029\uFEFF\uFFFD\u{10FFFF}\u{1F600}"\\/';
    await s.put('ctl.txt', content);
    assert.equal(expectOk(await s.read('ctl.txt')).content, content);
    const [doc] = await s.list();
    assert.equal('content' in doc, false, 'the list carries metadata only');
  });

  test('unknown extra fields in the body are ignored', async () => {
    const s = await setup();
    const id = expectOk(await s.c.put(`${s.P}/files/content`, { path: 'x.txt', content: 'x', type: 'folder', projectId: 'nope', extra: [1, 2] })).fileId;
    const [doc] = await s.list();
    assert.equal(doc._id, id);
    assert.equal(doc.type, 'file');
    assert.equal(doc.projectId, s.projectId);
  });

  test('a deeply nested path (200 levels) works or is refused cleanly', async () => {
    const s = await setup();
    const p = Array.from({ length: 200 }, (_, i) => `d${i}`).join('/') + '/leaf.txt';
    const res = await s.c.put(`${s.P}/files/content`, { path: p, content: 'deep' });
    assert.ok([200, 400].includes(res.status), describeRes(res));
    if (res.status === 200) {
      assert.equal(expectOk(await s.read(p)).content, 'deep');
      assert.equal((await s.list()).length, 201);
      const top = pathsOf(await s.list()).d0._id;
      expectSuccess(await s.c.del(`/api/files/${top}`), 'recursive delete of 200 levels');
      assert.deepEqual(await s.list(), []);
    } else expectStatus(res, 400);
  });

  test('a path longer than any sane limit (100 KB) -> 400 (or 413), never 500', async () => {
    const s = await setup();
    const res = await s.c.put(`${s.P}/files/content`, { path: 'a'.repeat(100_000), content: '' });
    assert.ok([400, 413].includes(res.status), describeRes(res));
    expectStatus(res, res.status);
  });

  test('malformed percent-encoding in the query -> 400, not 500', async () => {
    const s = await setup();
    for (const q of ['path=%', 'path=%zz', 'path=a%2', 'path=%c3%28']) {
      const res = await s.c.get(`${s.P}/files/content?${q}`);
      assert.ok([400, 404].includes(res.status), `?${q}: ${describeRes(res)}`);
      expectStatus(res, res.status, `?${q}`);
    }
  });

  test('a listing of files holding over 1 MiB together is small; each file reads whole', async () => {
    const s = await setup();
    const big = 'z'.repeat(700_000);
    await s.put('one.txt', big);
    await s.put('two.txt', big);
    await s.put('three.txt', big);
    const list = await s.list();
    assert.equal(list.length, 3);
    assert.ok(JSON.stringify(list).length < 4096, 'metadata only');
    for (const f of list) assert.equal(expectOk(await s.read(f.name)).content.length, big.length);
  });

  test('500 files in one folder are all listed', async () => {
    const s = await setup();
    for (let i = 0; i < 500; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => s.put(`many/f${i + j}.txt`, String(i + j))));
    }
    const list = await s.list();
    assert.equal(list.length, 501);
    const folder = pathsOf(list).many;
    assert.equal(list.filter((f) => f.parentId === folder._id).length, 500);
  });

  test('PUTs racing a folder delete leave no orphans (every parentId exists)', async () => {
    const s = await setup();
    await s.put('race/seed.txt', 'x');
    const folder = pathsOf(await s.list()).race._id;
    const ops = Array.from({ length: 30 }, (_, i) => s.c.put(`${s.P}/files/content`, { path: `race/sub${i % 3}/f${i}.txt`, content: 'y' }));
    ops.splice(10, 0, s.c.del(`/api/files/${folder}`));
    const results = await Promise.all(ops);
    for (const r of results) assert.ok([200, 404].includes(r.status), describeRes(r));
    const list = await s.list();
    const ids = new Set(list.map((f) => f._id));
    for (const f of list) {
      if (f.parentId) assert.ok(ids.has(f.parentId), `orphan: ${f.name} has parentId ${f.parentId} which no longer exists`);
    }
    // Every surviving file must be readable by its path.
    const byPath = pathsOf(list);
    for (const [p, f] of Object.entries(byPath)) if (f.type === 'file') expectOk(await s.read(p), `read ${p}`);
  });

  test('renaming a folder while files are written into it keeps the tree consistent', async () => {
    const s = await setup();
    await s.put('mv/a.txt', 'a');
    const folder = pathsOf(await s.list()).mv._id;
    const ops = Array.from({ length: 20 }, (_, i) => s.c.put(`${s.P}/files/content`, { path: `mv/f${i}.txt`, content: String(i) }));
    ops.splice(7, 0, s.c.patch(`/api/files/${folder}`, { name: 'moved' }));
    const results = await Promise.all(ops);
    for (const r of results) expectOk(r);
    const byPath = pathsOf(await s.list());
    const folders = Object.values(byPath).filter((f) => f.type === 'folder').map((f) => f.name).sort();
    // PUTs after the rename recreate "mv"; none may be lost.
    for (const n of folders) assert.ok(['moved', 'mv'].includes(n), `unexpected folder ${n}`);
    const files = Object.keys(byPath).filter((p) => byPath[p].type === 'file');
    assert.equal(files.length, 21, `all 21 files must exist somewhere: ${files}`);
  });

  test('PATCH {content} on a folder is refused (4xx); the folder and its children are intact', async () => {
    const s = await setup();
    await s.put('dir/child.txt', 'c');
    const dir = pathsOf(await s.list()).dir._id;
    const res = await s.c.patch(`/api/files/${dir}`, { content: 'not for folders' });
    assert.ok(res.status >= 400 && res.status < 500, `expected a 4xx, got ${describeRes(res)}`);
    expectStatus(res, res.status);
    const after = pathsOf(await s.list());
    assert.equal(after.dir.type, 'folder');
    assert.equal(after.dir.content, undefined, 'a folder must not gain content');
    assert.equal(expectOk(await s.read('dir/child.txt')).content, 'c');
  });

  test('GET /api/projects with a query string still lists', async () => {
    const s = await setup();
    const list = expectOk(await s.c.get('/api/projects?limit=1&x=%20'));
    assert.ok(Array.isArray(list) && list.some((p) => p._id === s.projectId));
  });

  test('list endpoints answer with application/json', async () => {
    const s = await setup();
    for (const p of ['/api/projects', `${s.P}/files`, `${s.P}/conversations`]) {
      const res = await s.c.get(p);
      expectOk(res, p);
      assert.match(res.headers.get('content-type') || '', /application\/json/i, `${p} content-type`);
    }
  });
});

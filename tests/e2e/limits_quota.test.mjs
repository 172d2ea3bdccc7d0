// Issue 9 quotas and name/path rules, each run as the attack against the real binary:
//  - GET /api/projects/:id/files lists metadata only; 10 concurrent listings of 50 × 500 KB
//    files keep the response small and the server's RSS flat;
//  - projects_per_user, files_per_project (409), project_bytes, user_bytes (413), counted in
//    polaris_limit_hits_total;
//  - names with control or bidi characters are 400; NFC/NFD twins are one name (409);
//  - a folder rename that would push a descendant's path past 4096 bytes is 400, nothing changes.
// The contract is /tmp/contract/limits-contract.md (issue 9).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  useServer, expectStatus, expectOk, expectSuccess, describeRes, newUser, sleep,
} from './lib/server.mjs';
import { metricsText, metricValue } from './lib/mock.mjs';

const MB = 1024 * 1024;

/** {error, limit} with the given status. */
function expectLimit(res, status, limit, what) {
  expectStatus(res, status, what);
  assert.equal(res.json.limit, limit, `${what}: body must name the limit "${limit}", got ${describeRes(res)}`);
}

async function limitHits(server, limit) {
  return metricValue((await metricsText(server)).text, `polaris_limit_hits_total{limit="${limit}"}`) ?? 0;
}

/** VmRSS / VmHWM of a process, in bytes. */
function procMemory(pid) {
  const t = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(t)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/** A user with one project and short-hands for its files. */
async function setup(ctx, name = 'quota') {
  const c = ctx.client(newUser());
  const projectId = expectOk(await c.post('/api/projects', { name }), 'create project').projectId;
  return projectHelpers(c, projectId);
}

function projectHelpers(c, projectId) {
  const P = `/api/projects/${projectId}`;
  return {
    c, projectId, P,
    put: (path, content) => c.put(`${P}/files/content`, { path, content }),
    mkdir: (path) => c.post(`${P}/folders`, { path }),
    read: (path) => c.get(`${P}/files/content?path=${encodeURIComponent(path)}`),
    list: async () => expectOk(await c.get(`${P}/files`), 'GET files'),
  };
}

const fill = (n, ch = 'x') => ch.repeat(n);

// ------------------------------------------------------------------------------------------
// Default limits: listings, names, paths.

describe('default limits: listings, names and paths', () => {
  const D = useServer();

  test('GET files: no content on any document; 10 concurrent listings of 50 × 500 KB stay small, RSS grows < 100 MB', async (t) => {
    const s = await setup(D, 'big listing');
    const FILES = 50;
    const SIZE = 500_000;
    for (let i = 0; i < FILES; i += 5) {
      const batch = [];
      for (let j = i; j < i + 5; j += 1) {
        const content = `file ${j}\n` + fill(SIZE - `file ${j}\n`.length, String.fromCharCode(97 + (j % 26)));
        batch.push(s.put(`dir${j % 3}/file${j}.txt`, content));
      }
      for (const r of await Promise.all(batch)) expectOk(r, 'upload 500 KB');
    }

    const one = await s.c.get(`${s.P}/files`);
    const list = expectOk(one, 'GET files');
    assert.equal(list.length, FILES + 3, 'the files and their three folders');
    for (const doc of list) {
      assert.ok(!('content' in doc), `listing documents carry no content: ${JSON.stringify(doc).slice(0, 200)}`);
    }
    assert.ok(one.buf.length < 64 * 1024, `listing of ${list.length} documents must be small, got ${one.buf.length} bytes`);
    // The single-file read still gives the content.
    const got = expectOk(await s.read('dir1/file1.txt'), 'GET content');
    assert.equal(got.content.length, SIZE);

    await sleep(300);
    const pid = D.server.proc.pid;
    let hwmReset = false;
    try { fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'); hwmReset = true; } catch { /* older kernel */ }
    const base = procMemory(pid).rss;
    let peak = base;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, procMemory(pid).rss);
        await sleep(10);
      }
    })();
    const sizes = [];
    try {
      for (let round = 0; round < 3; round += 1) {
        const results = await Promise.all(Array.from({ length: 10 }, () => s.c.get(`${s.P}/files`, { timeout: 60_000 })));
        for (const r of results) {
          const docs = expectOk(r, 'concurrent GET files');
          sizes.push(r.buf.length);
          assert.ok(docs.every((d) => !('content' in d)), 'no content in concurrent listings');
        }
      }
    } finally {
      sampling = false;
      await sampler;
    }
    if (hwmReset) peak = Math.max(peak, procMemory(pid).hwm);
    const grew = peak - base;
    t.diagnostic(`RSS base ${(base / MB).toFixed(1)} MB, peak ${(peak / MB).toFixed(1)} MB (VmHWM reset: ${hwmReset}); listing ${sizes[0]} bytes`);
    assert.ok(Math.max(...sizes) < 64 * 1024, `every listing stays small, max ${Math.max(...sizes)} bytes`);
    assert.ok(grew < 100 * MB, `server RSS grew by ${(grew / MB).toFixed(1)} MB during the listings (bound 100 MB; base ${(base / MB).toFixed(1)} MB)`);
  });

  const BAD = {
    BEL: '\u0007', ESC: '\u001b', DEL: '\u007f', 'C1 NEL': '\u0085', 'C1 CSI': '\u009b',
    LRE: '\u202a', RLO: '\u202e', LRI: '\u2066', PDI: '\u2069', LRM: '\u200e', RLM: '\u200f', ALM: '\u061c',
  };

  test('names with control or bidi characters -> 400 (project, conversation title, file, folder, renames); nothing changes', async () => {
    const s = await setup(D, 'names');
    const fileId = expectOk(await s.put('ok.txt', 'fine'), 'PUT ok.txt').fileId;
    const folderId = expectOk(await s.mkdir('okdir'), 'mkdir okdir').fileId;
    for (const [what, ch] of Object.entries(BAD)) {
      const n = `a${ch}b`;
      expectStatus(await s.c.post('/api/projects', { name: n }), 400, `project name with ${what}`);
      expectStatus(await s.c.patch(s.P, { name: n }), 400, `project rename with ${what}`);
      expectStatus(await s.c.post('/api/conversations', { projectId: s.projectId, title: n }), 400, `conversation title with ${what}`);
      expectStatus(await s.put(`${n}.txt`, 'x'), 400, `file name with ${what}`);
      expectStatus(await s.put(`okdir/${n}.txt`, 'x'), 400, `nested file name with ${what}`);
      expectStatus(await s.mkdir(n), 400, `folder name with ${what}`);
      expectStatus(await s.c.patch(`/api/files/${fileId}`, { name: `${n}.txt` }), 400, `file rename with ${what}`);
      expectStatus(await s.c.patch(`/api/files/${folderId}`, { name: n }), 400, `folder rename with ${what}`);
    }
    const projects = expectOk(await s.c.get('/api/projects'), 'list projects');
    assert.deepEqual(projects.map((p) => p.name), ['names'], 'no project created or renamed');
    assert.deepEqual((await s.list()).map((f) => f.name).sort(), ['ok.txt', 'okdir'], 'no file or folder created or renamed');
    assert.deepEqual(expectOk(await s.c.get(`${s.P}/conversations`), 'list conversations'), [], 'no conversation created');
  });

  test('NFC/NFD twins are one name: NFD folder or rename next to its NFC sibling -> 409; names are stored NFC', async (t) => {
    const s = await setup(D, 'twins');
    const NFC = '\u00e9.txt';
    const NFD = 'e\u0301.txt';
    assert.notEqual(NFC, NFD);
    assert.equal(NFD.normalize('NFC'), NFC);
    const id = expectOk(await s.put(NFC, 'one'), 'PUT NFC name').fileId;
    const otherId = expectOk(await s.put('other.txt', 'two'), 'PUT other.txt').fileId;

    expectStatus(await s.c.patch(`/api/files/${otherId}`, { name: NFD }), 409, 'rename to the NFD twin of a sibling');
    expectStatus(await s.mkdir(NFD), 409, 'folder named as the NFD twin of a sibling file');
    expectOk(await s.mkdir('caf\u00e9'), 'mkdir NFC folder');
    expectStatus(await s.mkdir('cafe\u0301'), 409, 'mkdir the NFD twin of a sibling folder');

    // PUT is an upsert: the NFD path names the NFC file (same id), or is refused; never a second file.
    const up = await s.put(NFD, 'three');
    assert.ok([200, 409].includes(up.status), `PUT NFD twin: 200 (same file) or 409, got ${describeRes(up)}`);
    t.diagnostic(`PUT of the NFD twin path answered ${up.status}`);
    if (up.status === 200) assert.equal(up.json.fileId, id, 'PUT of the NFD twin writes the NFC file');

    const list = await s.list();
    const names = list.map((f) => f.name);
    assert.equal(names.filter((n) => n.normalize('NFC') === NFC).length, 1, `one é.txt only: ${JSON.stringify(names)}`);
    assert.equal(names.filter((n) => n.normalize('NFC') === 'caf\u00e9').length, 1, `one café only: ${JSON.stringify(names)}`);
    assert.ok(list.find((f) => f._id === otherId)?.name === 'other.txt', 'the refused rename changed nothing');

    // A fresh NFD name is stored in NFC and readable by either spelling.
    expectOk(await s.put('cafe\u0301/n\u0303.md', 'x'), 'PUT NFD path into the NFC folder');
    const after = await s.list();
    for (const f of after) assert.equal(f.name, f.name.normalize('NFC'), `stored names are NFC: ${JSON.stringify(f.name)}`);
    assert.equal(after.filter((f) => f.type === 'folder').length, 1, 'the NFD folder path reused the NFC folder');
    assert.equal(expectOk(await s.read('caf\u00e9/\u00f1.md'), 'read by the NFC path').content, 'x');
  });

  test('folder rename that would make a descendant path > 4096 bytes -> 400, nothing changes; exactly 4096 is allowed', async () => {
    const s = await setup(D, 'paths');
    const segs = Array.from({ length: 15 }, (_, i) => fill(250, String.fromCharCode(97 + i)));
    const fileName = fill(255, 'z');
    const deepPath = ['top', ...segs, fileName].join('/');
    assert.equal(deepPath.length, 4024);
    const fileId = expectOk(await s.put(deepPath, 'deep'), 'PUT a 4024-byte path').fileId;
    const before = await s.list();
    const top = before.find((f) => f.name === 'top' && !f.parentId);
    assert.ok(top, 'top folder');

    // 'top' (3) -> 76 bytes: the file's path becomes 4097 bytes.
    const res = await s.c.patch(`/api/files/${top._id}`, { name: fill(76, 'T') });
    expectStatus(res, 400, 'rename pushing a descendant to 4097 bytes');
    assert.deepEqual(await s.list(), before, 'nothing changed');
    assert.equal(expectOk(await s.read(deepPath), 'the old path still reads').content, 'deep');

    expectSuccess(await s.c.patch(`/api/files/${top._id}`, { name: fill(75, 'T') }), 'rename to exactly 4096 bytes');
    const newPath = [fill(75, 'T'), ...segs, fileName].join('/');
    assert.equal(newPath.length, 4096);
    const got = expectOk(await s.read(newPath), 'read the 4096-byte path');
    assert.equal(got.fileId, fileId);
    // One more byte in a middle folder -> 400.
    const mid = (await s.list()).find((f) => f.name === segs[7]);
    expectStatus(await s.c.patch(`/api/files/${mid._id}`, { name: fill(251, 'q') }), 400, 'middle folder rename to 4097 bytes');
    assert.equal(expectOk(await s.read(newPath), 'still readable').content, 'deep');
  });
});

// ------------------------------------------------------------------------------------------
// Quotas.

describe('quotas (projects 3, files 5, project 1,000,000 bytes, user 1,500,000 bytes)', () => {
  const Q = useServer({
    env: {
      POLARIS_MAX_PROJECTS_PER_USER: 3,
      POLARIS_MAX_FILES_PER_PROJECT: 5,
      POLARIS_MAX_PROJECT_BYTES: 1_000_000,
      POLARIS_MAX_USER_BYTES: 1_500_000,
    },
  });

  test('projects_per_user=3: the 4th project -> 409; other users unaffected; deleting frees a slot', async () => {
    const c = Q.client(newUser());
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push(expectOk(await c.post('/api/projects', { name: `p${i}` }), `project ${i}`).projectId);
    expectLimit(await c.post('/api/projects', { name: 'p3' }), 409, 'projects_per_user', '4th project');
    expectLimit(await c.post('/api/projects/create', { name: 'p3' }), 409, 'projects_per_user', '4th project (alias route)');
    assert.equal(expectOk(await c.get('/api/projects'), 'list').length, 3, 'still 3 projects');
    expectOk(await Q.client(newUser()).post('/api/projects', { name: 'mine' }), 'another user');
    expectSuccess(await c.del(`/api/projects/${ids[0]}`), 'delete one');
    expectOk(await c.post('/api/projects', { name: 'p3' }), 'a freed slot');
  });

  test('files_per_project=5: the 6th file or folder -> 409 (PUT content, POST folders); replacing and renaming still work', async () => {
    const s = await setup(Q);
    for (const p of ['a.txt', 'b.txt', 'c.txt']) expectOk(await s.put(p, p), `PUT ${p}`);
    const d = expectOk(await s.mkdir('d'), 'mkdir d').fileId;
    const e = expectOk(await s.mkdir('e'), 'mkdir e').fileId;
    expectLimit(await s.put('f.txt', 'f'), 409, 'files_per_project', '6th item: a file');
    expectLimit(await s.mkdir('g'), 409, 'files_per_project', '6th item: a folder');
    expectLimit(await s.put('d/inner.txt', 'x'), 409, 'files_per_project', '6th item: a file in a folder');
    assert.equal((await s.list()).length, 5);

    expectOk(await s.put('a.txt', 'replaced'), 'replacing content creates nothing');
    assert.equal(expectOk(await s.read('a.txt')).content, 'replaced');
    const a = (await s.list()).find((f) => f.name === 'a.txt');
    expectSuccess(await s.c.patch(`/api/files/${a._id}`, { name: 'a2.txt' }), 'renaming creates nothing');

    expectSuccess(await s.c.del(`/api/files/${e}`), 'delete e');
    expectOk(await s.mkdir('g'), 'a freed slot');
    expectSuccess(await s.c.del(`/api/files/${d}`), 'delete d');
    // Two new items with one free slot: refused as a whole.
    expectLimit(await s.put('n1/n2.txt', 'x'), 409, 'files_per_project', 'a path needing two new items');
    assert.deepEqual((await s.list()).map((f) => f.name).sort(), ['a2.txt', 'b.txt', 'c.txt', 'g'], 'no half-created folder');
  });

  test('project_bytes=1,000,000: a write past it -> 413; smaller replacements work; exactly the limit is allowed', async () => {
    const s = await setup(Q);
    expectOk(await s.put('a.txt', fill(600_000)), 'PUT 600 KB');
    expectLimit(await s.put('b.txt', fill(500_000)), 413, 'project_bytes', 'PUT 500 KB more');
    expectStatus(await s.read('b.txt'), 404, 'refused file not created');

    expectOk(await s.put('a.txt', fill(100_000)), 'replace with a smaller content');
    expectOk(await s.put('b.txt', fill(500_000)), 'now 600 KB in all');
    expectLimit(await s.put('a.txt', fill(600_000)), 413, 'project_bytes', 'replacement growing past the limit');
    assert.equal(expectOk(await s.read('a.txt')).content.length, 100_000, 'refused replacement changed nothing');
    const a = (await s.list()).find((f) => f.name === 'a.txt');
    expectLimit(await s.c.patch(`/api/files/${a._id}`, { content: fill(600_000) }), 413, 'project_bytes', 'PATCH content past the limit');
    assert.equal(expectOk(await s.read('a.txt')).content.length, 100_000, 'refused PATCH changed nothing');

    expectOk(await s.put('a.txt', fill(500_000)), 'exactly 1,000,000 bytes in all');
    expectOk(await s.put('c.txt', ''), 'an empty file adds no bytes');
    expectLimit(await s.put('c.txt', 'x'), 413, 'project_bytes', 'one byte past the limit');
    // Multi-byte characters count as their UTF-8 bytes: 2 chars of 3 bytes each.
    expectOk(await s.put('a.txt', fill(499_994)), 'shrink by 6 bytes');
    expectOk(await s.put('c.txt', '€€'), '6 bytes of UTF-8');
    expectLimit(await s.put('c.txt', '€€x'), 413, 'project_bytes', '7 bytes of UTF-8');
  });

  test('user_bytes=1,500,000 across two projects -> 413 user_bytes; other users unaffected; deleting a project frees bytes', async () => {
    const s1 = await setup(Q, 'one');
    const p2 = expectOk(await s1.c.post('/api/projects', { name: 'two' }), 'second project').projectId;
    const s2 = projectHelpers(s1.c, p2);
    expectOk(await s1.put('a.txt', fill(900_000)), 'project one: 900 KB');
    expectOk(await s2.put('a.txt', fill(500_000)), 'project two: 500 KB (user 1.4 MB)');
    expectLimit(await s2.put('b.txt', fill(200_000)), 413, 'user_bytes', 'user past 1.5 MB (project two only 700 KB)');
    expectStatus(await s2.read('b.txt'), 404, 'refused file not created');
    expectOk(await s2.put('b.txt', fill(100_000)), 'exactly 1.5 MB for the user');

    const other = await setup(Q, 'other');
    expectOk(await other.put('a.txt', fill(900_000)), 'another user');

    expectSuccess(await s1.c.del(`/api/projects/${s1.projectId}`), 'delete project one');
    expectOk(await s2.put('c.txt', fill(300_000)), 'bytes of a deleted project are free again');
  });

  test('/metrics: polaris_limit_hits_total counts projects_per_user, files_per_project, project_bytes, user_bytes', async () => {
    const names = ['projects_per_user', 'files_per_project', 'project_bytes', 'user_bytes'];
    const before = {};
    for (const n of names) before[n] = await limitHits(Q.server, n);

    const c = Q.client(newUser());
    const ids = [];
    for (let i = 0; i < 3; i += 1) ids.push(expectOk(await c.post('/api/projects', { name: `m${i}` })).projectId);
    expectLimit(await c.post('/api/projects', { name: 'm3' }), 409, 'projects_per_user', '4th project');
    const [p1, p2, p3] = ids.map((id) => projectHelpers(c, id));
    for (let i = 0; i < 5; i += 1) expectOk(await p1.put(`f${i}`, ''), `file ${i}`);
    expectLimit(await p1.put('f5', ''), 409, 'files_per_project', '6th file');
    expectLimit(await p2.put('big', fill(1_000_001)), 413, 'project_bytes', 'one byte over the project');
    expectOk(await p2.put('big', fill(900_000)), '900 KB');
    expectLimit(await p3.put('big', fill(700_000)), 413, 'user_bytes', 'over the user');

    const { text } = await metricsText(Q.server);
    for (const n of names) {
      const v = metricValue(text, `polaris_limit_hits_total{limit="${n}"}`);
      assert.ok(v !== undefined, `/metrics must have polaris_limit_hits_total{limit="${n}"}`);
      assert.ok(v >= before[n] + 1, `${n}: ${before[n]} -> ${v}, must count the refusal`);
    }
  });
});

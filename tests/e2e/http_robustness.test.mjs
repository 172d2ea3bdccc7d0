// HTTP robustness: routing (404/405), hostile bodies (size, nesting, bad UTF-8, bad JSON) and
// raw-socket abuse (garbage, huge headers, slow clients, keep-alive, pipelining).
// After every hostile case the server must still answer /healthz.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import {
  useServer, request, expectStatus, expectOk, expectHealthy, expectErrorBody, describeRes, fakeId, newUser,
  rawExchange, parseResponses, countComplete, sleep,
} from './lib/server.mjs';

const ctx = useServer();
const MiB = 1024 * 1024;

async function newProject(c) {
  return expectOk(await c.post('/api/projects', { name: 'robust' }), 'create project').projectId;
}

function httpReq(method, path, { headers = {}, body } = {}) {
  const b = body === undefined ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  let head = `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  if (body !== undefined) head += `Content-Length: ${b.length}\r\n`;
  head += '\r\n';
  return Buffer.concat([Buffer.from(head, 'latin1'), b]);
}

/** A persistent socket that can read responses one at a time. */
async function openConn() {
  const s = net.connect({ host: '127.0.0.1', port: ctx.server.port });
  await new Promise((res, rej) => { s.once('connect', res); s.once('error', rej); });
  let buf = '';
  let closed = false;
  const waiters = [];
  const wake = () => { for (const w of waiters.splice(0)) w(); };
  s.on('data', (d) => { buf += d.toString('latin1'); wake(); });
  s.on('close', () => { closed = true; wake(); });
  s.on('error', () => {});
  return {
    socket: s,
    get closed() { return closed; },
    write: (d) => s.write(d),
    /** Waits until `n` complete responses have arrived since the start. */
    async waitFor(n, timeout = 5000) {
      const deadline = Date.now() + timeout;
      while (countComplete(buf) < n && !closed && Date.now() < deadline) {
        await Promise.race([new Promise((r) => waiters.push(r)), sleep(Math.max(1, deadline - Date.now()))]);
      }
      return parseResponses(buf);
    },
    async waitClose(timeout = 3000) {
      const deadline = Date.now() + timeout;
      while (!closed && Date.now() < deadline) {
        await Promise.race([new Promise((r) => waiters.push(r)), sleep(Math.max(1, deadline - Date.now()))]);
      }
      return closed;
    },
    destroy: () => s.destroy(),
  };
}

/** Asserts a raw exchange got a status in `statuses` with a JSON error body, or the socket was closed without any response. */
function expectRawRejectOrClose(r, statuses, what) {
  const resps = parseResponses(r.data);
  if (resps.length === 0) {
    assert.ok(r.closed || r.error, `${what}: expected ${statuses} or a closed connection; got neither within the timeout. data=${JSON.stringify(r.data.slice(0, 300))}`);
    return null;
  }
  const first = resps[0];
  assert.ok(statuses.includes(first.status), `${what}: expected one of ${statuses}, got ${first.status} ${first.body.slice(0, 300)}`);
  if (!first.incomplete && first.body.length) {
    let j;
    try { j = JSON.parse(first.body); } catch { assert.fail(`${what}: error body is not JSON: ${first.body.slice(0, 300)}`); }
    assert.equal(typeof j.error, 'string', `${what}: error body needs "error": ${first.body.slice(0, 300)}`);
  }
  return first;
}

describe('routing', () => {
  test('unknown routes -> 404 with a JSON error', async () => {
    const c = ctx.client(newUser());
    const p = await newProject(c);
    // ('/' and '/projects/...' are the web page's: tests/e2e/web_serving.test.mjs.)
    for (const path of ['/nope', '/api/nope', '/api/projects/' + p + '/nope', '/api/conversations/' + fakeId('cnv') + '/nope', '/healthz/extra', '/api/files']) {
      const res = await c.get(path);
      expectStatus(res, 404, `GET ${path}`);
    }
  });

  test('known path with the wrong method -> 405 with a JSON error', async () => {
    const c = ctx.client(newUser());
    const p = await newProject(c);
    const f = expectOk(await c.put(`/api/projects/${p}/files/content`, { path: 'a.txt', content: 'x' })).fileId;
    const cv = expectOk(await c.post('/api/conversations', { projectId: p })).conversationId;
    const cases = [
      ['POST', '/healthz'], ['DELETE', '/healthz'],
      ['PUT', '/api/projects'], ['DELETE', '/api/projects'], ['PATCH', '/api/projects'],
      ['POST', `/api/projects/${p}`], ['PUT', `/api/projects/${p}`],
      ['POST', `/api/projects/${p}/files`], ['DELETE', `/api/projects/${p}/files`],
      ['POST', `/api/projects/${p}/files/content`], ['DELETE', `/api/projects/${p}/files/content`],
      ['GET', `/api/projects/${p}/folders`],
      ['GET', `/api/files/${f}`], ['POST', `/api/files/${f}`], ['PUT', `/api/files/${f}`],
      ['GET', '/api/conversations'], ['DELETE', '/api/conversations'],
      ['POST', `/api/conversations/${cv}`], ['DELETE', `/api/conversations/${cv}/messages`],
      ['POST', `/api/projects/${p}/conversations`],
    ];
    for (const [m, path] of cases) {
      const res = await c.req(m, path, { body: m === 'GET' || m === 'DELETE' ? undefined : {} });
      expectStatus(res, 405, `${m} ${path}`);
    }
    // Nothing was changed by any of them.
    const content = expectOk(await c.get(`/api/projects/${p}/files/content?path=a.txt`));
    assert.equal(content.content, 'x');
  });

  test('/healthz with a query string still answers 200', async () => {
    const res = await request(ctx.server, 'GET', '/healthz?probe=1');
    expectOk(res);
    assert.deepEqual(res.json, { ok: true });
  });
});

describe('hostile bodies', () => {
  const malformed = [
    ['truncated object', '{"name":"abc'],
    ['truncated after colon', '{"name":'],
    ['single brace', '{'],
    ['not JSON', 'hello world'],
    ['single quotes', "{'name':'x'}"],
    ['trailing comma', '{"name":"x",}'],
    ['unquoted key', '{name:"x"}'],
    ['NaN value', '{"name":NaN}'],
    ['comment', '{"name":"x" /* c */}'],
    ['two objects', '{"name":"a"}{"name":"b"}'],
    ['raw control char in string', '{"name":"a\u0001b"}'],
    ['bad escape', '{"name":"\\q"}'],
    ['truncated unicode escape', '{"name":"\\u12"}'],
  ];
  for (const [what, raw] of malformed) {
    test(`malformed JSON (${what}) -> 400`, async () => {
      const c = ctx.client(newUser());
      expectStatus(await c.req('POST', '/api/projects', { raw }), 400, `POST /api/projects ${JSON.stringify(raw)}`);
      assert.deepEqual(expectOk(await c.get('/api/projects')), [], 'nothing created');
      await expectHealthy(ctx.server, what);
    });
  }

  const wrongTypes = [
    ['name: 5', { name: 5 }], ['name: false', { name: false }], ['name: []', { name: [] }],
    ['name: {}', { name: {} }], ['name: null', { name: null }], ['name: 1e400', '{"name":1e400}'],
  ];
  for (const [what, body] of wrongTypes) {
    test(`wrong type (${what}) -> 400`, async () => {
      const c = ctx.client(newUser());
      const res = typeof body === 'string' ? await c.req('POST', '/api/projects', { raw: body }) : await c.post('/api/projects', body);
      expectStatus(res, 400, `POST /api/projects ${JSON.stringify(body)}`);
      await expectHealthy(ctx.server, what);
    });
  }

  test('100,000-deep unclosed nesting [[[[… -> 400', async () => {
    const c = ctx.client(newUser());
    expectStatus(await c.req('POST', '/api/projects', { raw: '['.repeat(100_000) }), 400, '[ x 100000');
    await expectHealthy(ctx.server, 'deep [');
  });

  test('100,000-deep balanced array as the body -> 400', async () => {
    const c = ctx.client(newUser());
    expectStatus(await c.req('POST', '/api/projects', { raw: '['.repeat(100_000) + ']'.repeat(100_000) }), 400, 'balanced deep array');
    await expectHealthy(ctx.server, 'balanced deep array');
  });

  test('100,000-deep objects {"a":{"a":… -> 400', async () => {
    const c = ctx.client(newUser());
    expectStatus(await c.req('POST', '/api/projects', { raw: '{"a":'.repeat(100_000) }), 400, 'deep objects unclosed');
    await expectHealthy(ctx.server, 'deep objects');
  });

  test('deep nesting hidden in an extra field is refused or ignored, never a crash', async () => {
    const c = ctx.client(newUser());
    const raw = `{"name":"x","extra":${'['.repeat(100_000)}${']'.repeat(100_000)}}`;
    const res = await c.req('POST', '/api/projects', { raw });
    assert.ok([200, 400].includes(res.status), `expected 400 (or 200), got ${describeRes(res)}`);
    if (res.status === 400) expectErrorBody(res);
    await expectHealthy(ctx.server, 'deep extra field');
  });

  const badUtf8 = [
    ['lone 0xFF', [0xff]], ['lone continuation 0x80', [0x80]], ['overlong slash C0 AF', [0xc0, 0xaf]],
    ['overlong NUL C0 80', [0xc0, 0x80]], ['UTF-16 surrogate ED A0 80', [0xed, 0xa0, 0x80]],
    ['truncated 3-byte E2 82', [0xe2, 0x82]], ['above U+10FFFF F4 90 80 80', [0xf4, 0x90, 0x80, 0x80]],
    ['5-byte F8 88 80 80 80', [0xf8, 0x88, 0x80, 0x80, 0x80]], ['latin-1 é', [0xe9]],
  ];
  for (const [what, bytes] of badUtf8) {
    test(`invalid UTF-8 in the body (${what}) -> 400`, async () => {
      const c = ctx.client(newUser());
      const raw = Buffer.concat([Buffer.from('{"name":"ab'), Buffer.from(bytes), Buffer.from('cd"}')]);
      expectStatus(await c.req('POST', '/api/projects', { raw }), 400, `project name with ${what}`);
      assert.deepEqual(expectOk(await c.get('/api/projects')), [], 'nothing created');
      const p = await newProject(c);
      const raw2 = Buffer.concat([Buffer.from('{"path":"a.txt","content":"x'), Buffer.from(bytes), Buffer.from('y"}')]);
      expectStatus(await c.req('PUT', `/api/projects/${p}/files/content`, { raw: raw2 }), 400, `file content with ${what}`);
      const raw3 = Buffer.concat([Buffer.from('{"path":"a'), Buffer.from(bytes), Buffer.from('.txt","content":"x"}')]);
      expectStatus(await c.req('PUT', `/api/projects/${p}/files/content`, { raw: raw3 }), 400, `file path with ${what}`);
      const raw4 = Buffer.concat([Buffer.from('{"na'), Buffer.from(bytes), Buffer.from('me":"x"}')]);
      expectStatus(await c.req('POST', '/api/projects', { raw: raw4 }), 400, `key with ${what}`);
      assert.deepEqual(expectOk(await c.get(`/api/projects/${p}/files`)), [], 'no file created');
      await expectHealthy(ctx.server, what);
    });
  }

  test('a lone surrogate escape "\\ud800" is refused, or stored so that it reads back as valid JSON', async () => {
    const c = ctx.client(newUser());
    const res = await c.req('POST', '/api/projects', { raw: '{"name":"a\\ud800b"}' });
    assert.ok([200, 400].includes(res.status), `got ${describeRes(res)}`);
    if (res.status === 200) {
      const got = await c.get(`/api/projects/${res.json.projectId}`);
      expectOk(got, 'read back');
      assert.ok(got.json, `read back must be valid JSON: ${got.text}`);
      assert.ok(!got.buf.includes(Buffer.from([0xed, 0xa0, 0x80])), 'must not emit CESU/WTF-8 surrogate bytes');
    } else expectErrorBody(res);
    await expectHealthy(ctx.server);
  });

  test('a body of exactly 1 MiB is accepted', async () => {
    const c = ctx.client(newUser());
    const p = await newProject(c);
    const prefix = '{"path":"big.txt","content":"';
    const suffix = '"}';
    const raw = prefix + 'x'.repeat(MiB - prefix.length - suffix.length) + suffix;
    assert.equal(Buffer.byteLength(raw), MiB);
    const res = await c.req('PUT', `/api/projects/${p}/files/content`, { raw });
    expectOk(res, 'PUT with a 1 MiB body');
    const got = expectOk(await c.get(`/api/projects/${p}/files/content?path=big.txt`));
    assert.equal(got.content.length, MiB - prefix.length - suffix.length);
  });

  test('a body over 1 MiB (Content-Length) -> 413, and nothing is written', async () => {
    const c = ctx.client(newUser());
    const p = await newProject(c);
    const prefix = '{"path":"big.txt","content":"';
    const body = Buffer.from(prefix + 'x'.repeat(MiB + 1 - prefix.length - 2) + '"}');
    assert.equal(body.length, MiB + 1);
    const head = `PUT /api/projects/${p}/files/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`;
    const chunks = [Buffer.from(head)];
    for (let i = 0; i < body.length; i += 64 * 1024) chunks.push(body.subarray(i, i + 64 * 1024));
    const r = await rawExchange(ctx.server, null, { chunks, stopWritingOnData: true, timeout: 8000, until: (d) => countComplete(d) >= 1 });
    const resps = parseResponses(r.data);
    assert.ok(resps.length >= 1, `expected a 413 response, got none (closed=${r.closed}, error=${r.error?.code}, timedOut=${r.timedOut})`);
    assert.equal(resps[0].status, 413, `expected 413, got ${resps[0].status} ${resps[0].body.slice(0, 300)}`);
    if (!resps[0].incomplete) assert.equal(typeof JSON.parse(resps[0].body).error, 'string', '413 body must be {"error":…}');
    expectStatus(await c.get(`/api/projects/${p}/files/content?path=big.txt`), 404, 'oversized PUT must not write');
    await expectHealthy(ctx.server, '413');
  });

  test('a declared Content-Length of 1 GiB is refused at once (413) without sending the body', async () => {
    const c = ctx.client(newUser());
    const head = `POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.token}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${1024 * MiB}\r\n\r\n{"name":`;
    const r = await rawExchange(ctx.server, head, { timeout: 4000, until: (d) => countComplete(d) >= 1 });
    const resps = parseResponses(r.data);
    if (resps.length) assert.equal(resps[0].status, 413, `got ${resps[0].status} ${resps[0].body}`);
    else assert.ok(r.closed, 'expected 413 or a closed connection, the server just waited for 1 GiB');
    await expectHealthy(ctx.server, '1 GiB Content-Length');
  });

  test('a chunked body over 1 MiB -> 413 (or 4xx/close), server keeps serving', async () => {
    const c = ctx.client(newUser());
    const head = `POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.token}\r\n` +
      'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';
    const chunks = [Buffer.from(head)];
    const piece = Buffer.alloc(64 * 1024, 'a');
    for (let i = 0; i < 24; i++) chunks.push(Buffer.concat([Buffer.from(piece.length.toString(16) + '\r\n'), piece, Buffer.from('\r\n')]));
    chunks.push(Buffer.from('0\r\n\r\n'));
    const r = await rawExchange(ctx.server, null, { chunks, stopWritingOnData: true, timeout: 8000, until: (d) => countComplete(d) >= 1 });
    const first = expectRawRejectOrClose(r, [413, 400, 411], 'chunked 1.5 MiB');
    if (first) assert.equal(first.status, 413, `chunked body over 1 MiB should be 413, got ${first.status}`);
    await expectHealthy(ctx.server, 'chunked oversize');
  });

  test('a small chunked JSON body is accepted', async () => {
    const c = ctx.client(newUser());
    const json = '{"name":"chunked"}';
    const req = `POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.token}\r\nContent-Type: application/json\r\n` +
      `Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n${json.slice(0, 5)}\r\n${(json.length - 5).toString(16)}\r\n${json.slice(5)}\r\n0\r\n\r\n`;
    const r = await rawExchange(ctx.server, req, { until: (d) => countComplete(d) >= 1 });
    const [res] = parseResponses(r.data);
    assert.ok(res, `no response: ${r.data}`);
    assert.equal(res.status, 200, `chunked POST: ${res.status} ${res.body}`);
    assert.ok(JSON.parse(res.body).projectId);
  });
});

describe('raw sockets', () => {
  test('garbage request line -> 400 (or close); server still serves', async () => {
    for (const junk of ['GARBAGE\r\n\r\n', 'GET\r\n\r\n', 'GET / HTTP/9.9\r\nHost: x\r\n\r\n', '\x00\x01\x02\x03\xff\xfe\r\n\r\n',
      'GET /healthz HTTP/1.1\nHost x\n\n', ' / HTTP/1.1\r\n\r\n', 'GET /he\x00althz HTTP/1.1\r\nHost: x\r\n\r\n']) {
      const r = await rawExchange(ctx.server, Buffer.from(junk, 'latin1'), { timeout: 3000, until: (d) => countComplete(d) >= 1 });
      expectRawRejectOrClose(r, [400, 404, 405, 426, 505], `junk ${JSON.stringify(junk)}`);
      await expectHealthy(ctx.server, `after junk ${JSON.stringify(junk)}`);
    }
  });

  test('random binary noise does not hurt the server', async () => {
    const noise = Buffer.alloc(64 * 1024);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 2654435761) >>> 24;
    const r = await rawExchange(ctx.server, noise, { timeout: 3000 });
    expectRawRejectOrClose(r, [400], 'binary noise');
    await expectHealthy(ctx.server, 'noise');
  });

  test('a header block over 16 KiB -> 4xx or close', async () => {
    const big = `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20 * 1024)}\r\n\r\n`;
    const r = await rawExchange(ctx.server, big, { timeout: 4000, until: (d) => countComplete(d) >= 1 });
    expectRawRejectOrClose(r, [400, 413, 431], 'one 20 KiB header');
    let many = 'GET /healthz HTTP/1.1\r\nHost: x\r\n';
    for (let i = 0; i < 2000; i++) many += `X-H${i}: ${'v'.repeat(20)}\r\n`;
    many += '\r\n';
    const r2 = await rawExchange(ctx.server, many, { timeout: 4000, until: (d) => countComplete(d) >= 1 });
    expectRawRejectOrClose(r2, [400, 413, 431], '2000 headers');
    const r3 = await rawExchange(ctx.server, 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Endless: ' + 'b'.repeat(1024 * 1024), { timeout: 4000 });
    expectRawRejectOrClose(r3, [400, 413, 431], 'a 1 MiB header line that never ends');
    await expectHealthy(ctx.server, 'big headers');
  });

  test('a 4 KiB header (e.g. a long token) is fine', async () => {
    const res = await request(ctx.server, 'GET', '/healthz', { headers: { 'x-padding': 'p'.repeat(4096) } });
    expectOk(res, '4 KiB header');
  });

  test('slow clients (half a request, then silence) do not block others', async () => {
    const c = ctx.client(newUser());
    const slow = [];
    for (let i = 0; i < 20; i++) {
      const s = net.connect({ host: '127.0.0.1', port: ctx.server.port });
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      if (i % 2) s.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      else s.write(`POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.token}\r\nContent-Length: 100\r\n\r\n{"na`);
      slow.push(s);
    }
    try {
      const t0 = Date.now();
      const results = await Promise.all([
        ...Array.from({ length: 20 }, () => request(ctx.server, 'GET', '/healthz', { timeout: 5000 })),
        ...Array.from({ length: 10 }, (_, i) => c.post('/api/projects', { name: `p${i}` }, { timeout: 5000 })),
      ]);
      for (const r of results) expectOk(r, 'request while slow clients hang');
      assert.ok(Date.now() - t0 < 3000, `requests took ${Date.now() - t0} ms while slow clients were connected`);
    } finally {
      for (const s of slow) s.destroy();
    }
    await expectHealthy(ctx.server, 'slow clients');
  });

  test('many idle connections do not exhaust the server', async () => {
    const idle = [];
    for (let i = 0; i < 200; i++) {
      const s = net.connect({ host: '127.0.0.1', port: ctx.server.port });
      s.on('error', () => {});
      idle.push(s);
    }
    await Promise.all(idle.map((s) => new Promise((r) => { if (s.readyState === 'open') r(); else s.once('connect', r); s.once('error', r); })));
    try {
      const res = await Promise.all(Array.from({ length: 10 }, () => request(ctx.server, 'GET', '/healthz', { timeout: 5000 })));
      for (const r of res) expectOk(r);
    } finally {
      for (const s of idle) s.destroy();
    }
  });

  test('keep-alive: two requests on one socket are both answered', async () => {
    const c = ctx.client(newUser());
    const conn = await openConn();
    try {
      conn.write(httpReq('GET', '/healthz'));
      let resps = await conn.waitFor(1);
      assert.equal(resps.length, 1, 'first response');
      assert.equal(resps[0].status, 200);
      assert.deepEqual(JSON.parse(resps[0].body), { ok: true });
      assert.ok(!conn.closed, 'server must keep an HTTP/1.1 connection open');
      conn.write(httpReq('POST', '/api/projects', { headers: { Authorization: `Bearer ${c.token}`, 'Content-Type': 'application/json' }, body: '{"name":"ka"}' }));
      resps = await conn.waitFor(2);
      assert.equal(resps.length, 2, 'second response on the same socket');
      assert.equal(resps[1].status, 200, `second: ${resps[1].status} ${resps[1].body}`);
      assert.ok(JSON.parse(resps[1].body).projectId);
      conn.write(httpReq('GET', '/api/projects', { headers: { Authorization: `Bearer ${c.token}` } }));
      resps = await conn.waitFor(3);
      assert.equal(resps.length, 3, 'third response on the same socket');
      assert.equal(JSON.parse(resps[2].body).length, 1);
    } finally {
      conn.destroy();
    }
  });

  test('keep-alive survives an error response (404/400) on the same socket', async () => {
    const c = ctx.client(newUser());
    const conn = await openConn();
    try {
      conn.write(httpReq('GET', '/nope'));
      conn.write(httpReq('POST', '/api/projects', { headers: { Authorization: `Bearer ${c.token}` }, body: '{"name":' }));
      conn.write(httpReq('GET', '/healthz'));
      const resps = await conn.waitFor(3);
      assert.deepEqual(resps.map((r) => r.status), [404, 400, 200]);
    } finally {
      conn.destroy();
    }
  });

  test('pipelining: two requests in one write get two responses in order', async () => {
    const c = ctx.client(newUser());
    const a = httpReq('POST', '/api/projects', { headers: { Authorization: `Bearer ${c.token}` }, body: '{"name":"first"}' });
    const b = httpReq('GET', '/api/projects', { headers: { Authorization: `Bearer ${c.token}` } });
    const r = await rawExchange(ctx.server, Buffer.concat([a, b]), { until: (d) => countComplete(d) >= 2 });
    const resps = parseResponses(r.data);
    assert.equal(resps.length, 2, `two responses expected, got ${JSON.stringify(r.data.slice(0, 500))}`);
    assert.equal(resps[0].status, 200);
    const id = JSON.parse(resps[0].body).projectId;
    assert.equal(resps[1].status, 200);
    assert.deepEqual(JSON.parse(resps[1].body).map((p) => p._id), [id], 'the second request sees the first one\'s effect');
  });

  test('Connection: close is honoured', async () => {
    const conn = await openConn();
    conn.write(httpReq('GET', '/healthz', { headers: { Connection: 'close' } }));
    const resps = await conn.waitFor(1);
    assert.equal(resps[0]?.status, 200);
    assert.ok(await conn.waitClose(), 'server should close after Connection: close');
  });

  test('HTTP/1.0 request without Host is answered and closed', async () => {
    const r = await rawExchange(ctx.server, 'GET /healthz HTTP/1.0\r\n\r\n', { timeout: 3000 });
    const [res] = parseResponses(r.data);
    assert.ok(res, `no response: ${JSON.stringify(r.data)}`);
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { ok: true });
    assert.ok(r.closed, 'HTTP/1.0 without keep-alive: server closes');
  });

  test('client disconnecting mid-body does not hurt the server', async () => {
    const c = ctx.client(newUser());
    for (let i = 0; i < 10; i++) {
      const s = net.connect({ host: '127.0.0.1', port: ctx.server.port });
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      s.write(`POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.token}\r\nContent-Length: 1000\r\n\r\n{"name":"cut`);
      await sleep(5);
      s.destroy();
    }
    await expectHealthy(ctx.server, 'disconnect mid-body');
    assert.deepEqual(expectOk(await c.get('/api/projects')), [], 'a cut-off request must not create anything');
  });

  test('bad Content-Length values -> 400 (or close)', async () => {
    for (const cl of ['abc', '-1', '1, 2', '99999999999999999999999']) {
      const req = `POST /api/projects HTTP/1.1\r\nHost: x\r\nContent-Length: ${cl}\r\n\r\n{}`;
      const r = await rawExchange(ctx.server, req, { timeout: 3000, until: (d) => countComplete(d) >= 1 });
      expectRawRejectOrClose(r, [400, 401, 413], `Content-Length: ${cl}`);
      await expectHealthy(ctx.server, `Content-Length: ${cl}`);
    }
  });

  test('Expect: 100-continue (what curl sends for bodies > 1 KiB) gets 100, then the real answer', async () => {
    const c = ctx.client(newUser());
    const p = await newProject(c);
    const body = JSON.stringify({ path: 'continue.txt', content: 'x'.repeat(4000) });
    const conn = await openConn();
    try {
      conn.write(`PUT /api/projects/${p}/files/content HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${c.token}\r\nContent-Type: application/json\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nExpect: 100-continue\r\n\r\n`);
      const interim = await conn.waitFor(1, 1500); // curl waits 1 s for the 100 before sending anyway
      assert.equal(interim[0]?.status, 100, `expected "100 Continue" before the body, got ${JSON.stringify(interim)}`);
      conn.write(body);
      const resps = await conn.waitFor(2, 5000);
      const statuses = resps.map((r) => r.status);
      const final = resps.find((r) => r.status !== 100);
      assert.ok(final, `no final response; got ${statuses}`);
      assert.equal(final.status, 200, `final: ${final.status} ${final.body}`);
      assert.ok(JSON.parse(final.body).fileId);
    } finally {
      conn.destroy();
    }
  });

  test('a 12 KiB URL is answered (404/414), never a crash', async () => {
    const r = await rawExchange(ctx.server, `GET /api/${'x'.repeat(12 * 1024)} HTTP/1.1\r\nHost: x\r\n\r\n`, { timeout: 3000, until: (d) => countComplete(d) >= 1 });
    expectRawRejectOrClose(r, [400, 401, 404, 414, 431], '12 KiB URL');
    await expectHealthy(ctx.server, 'long URL');
  });

  test('100 concurrent requests all succeed', async () => {
    const c = ctx.client(newUser());
    const p = await newProject(c);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      i % 2 ? c.put(`/api/projects/${p}/files/content`, { path: `f${i}.txt`, content: String(i) }) : request(ctx.server, 'GET', '/healthz')));
    for (const r of results) expectOk(r, 'concurrent request');
    assert.equal(expectOk(await c.get(`/api/projects/${p}/files`)).length, 50);
  });
});

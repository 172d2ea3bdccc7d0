// The IDE page and the sign-in link, against the real binary:
//  - `polaris serve` prints `polaris sign-in: http://HOST:PORT/#token=<JWT>` after its listening
//    line: HS256, sub = --local-user (default "local", env POLARIS_LOCAL_USER), 7-day exp, a
//    bearer token the server accepts; --local-user "" prints no link; 0.0.0.0 shows 127.0.0.1;
//  - GET/HEAD outside /api/: /, /index.html and page routes answer index.html (no-cache, CSP
//    script-src 'self', nosniff); /assets/<name> is cached for good; gzip when accepted;
//    listings, unknown assets and ../%2e%2e/%2f escapes are 404; unknown /api/ paths stay JSON;
//  - --web-dir DIR serves a folder (read per request, .gz sibling when present), never a symlink
//    leading out of it, and refuses to start when DIR is not a folder.
// Raw answers (no automatic decompression) come from node:http. Node built-ins only.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  POLARIS_BIN, useServer, startServer, request, client, makeToken, signJwt, decodeJwtPart, polarisToken,
  expectStatus, expectOk, expectHealthy, describeRes, newUser, makeTempDir, randomSecret, serverEnv,
} from './lib/server.mjs';
import { waitFor } from './lib/mock.mjs';

const T = { timeout: 30_000 };
const SEVEN_DAYS = 7 * 24 * 3600;
const IMMUTABLE = 'public, max-age=31536000, immutable';
const nowSec = () => Math.floor(Date.now() / 1000);

// ---------------------------------------------------------------- helpers

/**
 * One request with node:http: the target is sent verbatim and the body is not decompressed.
 * Resolves {status, headers (lower-case names), body: Buffer, text}.
 */
function raw(server, target, { method = 'GET', headers = {}, timeout = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: server.port, method, path: target, headers, agent: false, timeout,
    }, (res) => {
      const parts = [];
      res.on('data', (d) => parts.push(d));
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode, headers: res.headers, body, text: body.toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${target}: no answer within ${timeout} ms`)));
    req.on('error', reject);
    req.end();
  });
}

function show(res) {
  const t = res.text.length > 300 ? `${res.text.slice(0, 300)}…` : res.text;
  return `HTTP ${res.status} ${JSON.stringify(res.headers)} ${t}`;
}

/** The page's answer headers: HTML, no-cache, CSP with script-src 'self', nosniff. */
function expectPageHeaders(res, what) {
  assert.equal(res.status, 200, `${what}: ${show(res)}`);
  assert.match(res.headers['content-type'] || '', /^text\/html/i, `${what}: content-type`);
  assert.equal(res.headers['cache-control'], 'no-cache', `${what}: Cache-Control`);
  const csp = res.headers['content-security-policy'] || '';
  const scriptSrc = csp.split(';').map((d) => d.trim()).find((d) => d.startsWith('script-src'));
  assert.equal(scriptSrc, "script-src 'self'", `${what}: CSP must allow scripts from the page only, got "${csp}"`);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', `${what}: X-Content-Type-Options`);
}

function expectAssetHeaders(res, what, contentType) {
  assert.equal(res.status, 200, `${what}: ${show(res)}`);
  assert.equal(res.headers['cache-control'], IMMUTABLE, `${what}: Cache-Control`);
  assert.equal(res.headers['x-content-type-options'], 'nosniff', `${what}: X-Content-Type-Options`);
  if (contentType) assert.match(res.headers['content-type'] || '', contentType, `${what}: content-type`);
}

function expectVaryAcceptEncoding(res, what) {
  assert.match(res.headers.vary || '', /accept-encoding/i, `${what}: Vary must name Accept-Encoding, got ${show(res)}`);
}

/** A 404 that carries no file: neither the page nor anything from outside. */
function expectNotFound(res, what, secrets = []) {
  assert.equal(res.status, 404, `${what}: expected 404, got ${show(res)}`);
  assert.doesNotMatch(res.text, /<html/i, `${what}: a 404 must not be the page`);
  assert.doesNotMatch(res.text, /root:x?:0:0/, `${what}: /etc/passwd leaked`);
  for (const s of secrets) assert.ok(!res.text.includes(s), `${what}: leaked ${JSON.stringify(s)}`);
}

/** The /assets/... names the page refers to. */
function assetNames(html) {
  return [...new Set([...html.matchAll(/\/assets\/[A-Za-z0-9._-]+/g)].map((m) => m[0]))];
}

/** Everything the process wrote to stdout, once it has closed (after stop()). */
async function stdoutClosed(server) {
  if (!server.proc.stdout.closed) await new Promise((r) => server.proc.stdout.once('close', r));
  return server.stdout;
}

const SIGN_IN = /^polaris sign-in: (http:\/\/([^\s/:]+|\[[^\]]+\]):(\d+)\/)#token=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/m;

/** Waits for the sign-in line; returns {url, host, port, token, line}. */
async function signInLine(server) {
  const m = await waitFor(() => SIGN_IN.exec(server.stdout), { timeout: 5_000, interval: 20, what: `the sign-in line in ${JSON.stringify(server.stdout)}` });
  return { line: m[0], url: m[1], host: m[2], port: Number(m[3]), token: m[4] };
}

/** Starts, runs fn(server), always stops (asserting a clean exit). */
async function withServer(opts, fn) {
  const server = await startServer(opts);
  try {
    return await fn(server);
  } finally {
    await server.stop();
  }
}

/** Runs `polaris serve ARGS` expecting it to refuse to start: resolves {code, signal, stdout, stderr}. */
function serveExpectingExit(args, { timeout = 10_000 } = {}) {
  const dataDir = makeTempDir();
  const env = serverEnv({ POLARIS_JWT_SECRET: randomSecret() });
  const proc = spawn(POLARIS_BIN, ['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir,
    '--db', `sqlite:${path.join(dataDir, 'polaris.db')}`, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => { stdout += d; });
  proc.stderr.on('data', (d) => { stderr += d; });
  return new Promise((resolve) => {
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeout);
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      fs.rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// ---------------------------------------------------------------- the sign-in link

describe('sign-in link printed by `polaris serve`', () => {
  test('default user "local": the line follows the listening line; HS256, 7-day exp; the token is accepted', T, async () => {
    await withServer({ env: { POLARIS_LOCAL_USER: undefined } }, async (server) => {
      const link = await signInLine(server);
      const listening = server.stdout.indexOf('polaris listening on ');
      assert.ok(listening >= 0 && listening < server.stdout.indexOf('polaris sign-in: '),
        `the sign-in line comes after the listening line:\n${server.stdout}`);
      assert.equal(link.host, '127.0.0.1');
      assert.equal(link.port, server.port, 'the link names the port the server listens on');
      assert.equal(link.url, `http://127.0.0.1:${server.port}/`);

      const [h, p] = link.token.split('.');
      const header = decodeJwtPart(link.token, 0);
      const claims = decodeJwtPart(link.token, 1);
      assert.equal(header.alg, 'HS256', JSON.stringify(header));
      assert.equal(claims.sub, 'local', JSON.stringify(claims));
      assert.equal(typeof claims.exp, 'number', JSON.stringify(claims));
      assert.ok(Math.abs(claims.exp - (nowSec() + SEVEN_DAYS)) < 120, `exp must be 7 days ahead: ${JSON.stringify(claims)}`);
      if (claims.iat !== undefined) assert.equal(claims.exp - claims.iat, SEVEN_DAYS, `exp - iat: ${JSON.stringify(claims)}`);
      assert.equal(signJwt(p, server.secret, h), link.token, 'signed with the server secret (HMAC-SHA256)');

      // The server takes it as a bearer token, for user "local".
      const c = client(server, link.token);
      const { projectId } = expectOk(await c.post('/api/projects', { name: 'from the link' }), 'create with the link token');
      const doc = expectOk(await c.get(`/api/projects/${projectId}`), 'read with the link token');
      assert.equal(doc.ownerId, 'local');
      const same = expectOk(await client(server, makeToken('local', server.secret)).get('/api/projects'), 'another token for "local"');
      assert.deepEqual(same.map((x) => x._id), [projectId]);
      // A tampered token is not.
      const forged = signJwt({ ...claims, sub: 'someone-else' }, randomSecret());
      expectStatus(await request(server, 'GET', '/api/projects', { token: forged }), 401, 'forged token');

      // The link itself opens the page (the fragment stays in the browser).
      const page = await raw(server, new URL(link.url).pathname);
      expectPageHeaders(page, 'GET of the link');
    });
  });

  test('--local-user alice: sub "alice"; that user sees only their projects', T, async () => {
    await withServer({ args: ['--local-user', 'alice'], env: { POLARIS_LOCAL_USER: undefined } }, async (server) => {
      const link = await signInLine(server);
      assert.equal(decodeJwtPart(link.token, 1).sub, 'alice');
      const other = client(server, makeToken(newUser('other'), server.secret));
      expectOk(await other.post('/api/projects', { name: 'not alice' }));
      const c = client(server, link.token);
      assert.deepEqual(expectOk(await c.get('/api/projects'), 'alice lists'), []);
      expectOk(await c.post('/api/projects', { name: 'alice' }), 'alice creates');
      assert.equal(expectOk(await c.get('/api/projects')).length, 1);
    });
  });

  test('POLARIS_LOCAL_USER=bob: sub "bob"', T, async () => {
    await withServer({ env: { POLARIS_LOCAL_USER: 'bob' } }, async (server) => {
      const link = await signInLine(server);
      assert.equal(decodeJwtPart(link.token, 1).sub, 'bob');
      expectOk(await request(server, 'GET', '/api/projects', { token: link.token }), 'bob lists');
    });
  });

  test('--local-user "": no sign-in line at all', T, async () => {
    const server = await startServer({ args: ['--local-user', ''], env: { POLARIS_LOCAL_USER: undefined } });
    try {
      await expectHealthy(server, 'serving');
    } finally {
      await server.stop();
    }
    const out = await stdoutClosed(server);
    assert.match(out, /polaris listening on /);
    assert.doesNotMatch(out, /sign-in|#token=/, `no link may be printed:\n${out}`);
  });

  test('listening on 0.0.0.0: the link names 127.0.0.1 and the real port, and it works', T, async () => {
    // envOnly: host, port and data dir come from the environment; the flag picks the wildcard.
    await withServer({ envOnly: true, args: ['--host', '0.0.0.0'], env: { POLARIS_LOCAL_USER: undefined } }, async (server) => {
      assert.match(server.stdout, /polaris listening on http:\/\/0\.0\.0\.0:\d+/, `listens on the wildcard:\n${server.stdout}`);
      const link = await signInLine(server);
      assert.equal(link.host, '127.0.0.1', link.line);
      assert.equal(link.port, server.port, link.line);
      expectOk(await request(server, 'GET', '/api/projects', { token: link.token }), 'link token via 127.0.0.1');
    });
  });

  test('without POLARIS_JWT_SECRET the link is signed with the data dir\'s secret (the one `polaris token` uses)', T, async () => {
    const dataDir = makeTempDir();
    try {
      await withServer({ dataDir, secret: null, env: { POLARIS_LOCAL_USER: undefined } }, async (server) => {
        const link = await signInLine(server);
        const c = client(server, link.token);
        const { projectId } = expectOk(await c.post('/api/projects', { name: 'generated secret' }), 'link token, generated secret');
        const cli = await polarisToken({ user: 'local', dataDir });
        const list = expectOk(await client(server, cli).get('/api/projects'), 'CLI token for "local"');
        assert.deepEqual(list.map((x) => x._id), [projectId]);
      });
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- the embedded page

describe('the page built into the binary', () => {
  const ctx = useServer();
  let index; // GET / without gzip
  let assets;
  before(async () => {
    await ctx.ready;
    index = await raw(ctx.server, '/');
    assets = assetNames(index.text);
  });

  test('GET / is index.html: text/html, no-cache, CSP script-src \'self\', nosniff', T, async () => {
    expectPageHeaders(index, 'GET /');
    assert.match(index.text, /^<!doctype html>/i, show(index));
    assert.equal(index.headers['content-encoding'], undefined, 'no gzip when not asked for');
    assert.ok(assets.some((a) => a.endsWith('.js')), `the page loads a script from /assets/: ${index.text}`);
  });

  test('/index.html and the page\'s routes answer the same index.html', T, async () => {
    for (const target of ['/index.html', '/projects', '/projects/abc', '/projects/prj_abc/',
      '/projects/abc/files/src%20x?tab=1']) {
      const res = await raw(ctx.server, target);
      expectPageHeaders(res, `GET ${target}`);
      assert.equal(res.text, index.text, `GET ${target} must answer index.html`);
    }
    // Paths that are not the page's routes stay 404s, as before there was a page.
    for (const target of ['/nope', '/settings', '/some/deep/route?x=1', '/etc/passwd']) {
      const res = await raw(ctx.server, target);
      assert.equal(res.status, 404, `GET ${target}: ${res.status}`);
      assert.doesNotMatch(res.text, /<!doctype html>/i, `GET ${target} must not answer the page`);
    }
  });

  test('HEAD / and HEAD of a page route: the page\'s headers, no body', T, async () => {
    for (const target of ['/', '/projects/abc']) {
      const res = await raw(ctx.server, target, { method: 'HEAD' });
      expectPageHeaders(res, `HEAD ${target}`);
      assert.equal(res.body.length, 0, `HEAD ${target} has no body`);
      if (res.headers['content-length'] !== undefined) {
        assert.equal(Number(res.headers['content-length']), index.body.length, `HEAD ${target} Content-Length`);
      }
    }
    // The connection stays usable after a HEAD (no stray body): the server still answers.
    await expectHealthy(ctx.server, 'after HEAD');
  });

  test('the page\'s assets: 200, cached for good (immutable), right content type; HEAD too', T, async () => {
    assert.ok(assets.length >= 1, 'at least one asset');
    for (const a of assets) {
      const res = await raw(ctx.server, a);
      expectAssetHeaders(res, `GET ${a}`, a.endsWith('.js') ? /javascript/i : a.endsWith('.css') ? /text\/css/i : /./);
      assert.ok(res.body.length > 0, `${a} has a body`);
      const head = await raw(ctx.server, a, { method: 'HEAD' });
      expectAssetHeaders(head, `HEAD ${a}`);
      assert.equal(head.body.length, 0, `HEAD ${a} has no body`);
    }
  });

  test('gzip when Accept-Encoding accepts it (Content-Encoding gzip, Vary), the same bytes once unzipped', T, async () => {
    for (const target of ['/', '/projects/abc', ...assets]) {
      const plain = await raw(ctx.server, target);
      assert.equal(plain.status, 200, `${target}: ${show(plain)}`);
      expectVaryAcceptEncoding(plain, `${target} without gzip`);
      for (const ae of ['gzip', 'gzip, deflate, br', 'br;q=1.0, gzip;q=0.8, *;q=0.1', 'deflate, gzip;q=0.5']) {
        const res = await raw(ctx.server, target, { headers: { 'accept-encoding': ae } });
        assert.equal(res.status, 200, `${target} (${ae}): ${show(res)}`);
        assert.equal(res.headers['content-encoding'], 'gzip', `${target} with Accept-Encoding "${ae}": ${show(res)}`);
        expectVaryAcceptEncoding(res, `${target} (${ae})`);
        assert.deepEqual(zlib.gunzipSync(res.body), plain.body, `${target} (${ae}): unzipped bytes equal the plain answer`);
      }
      const head = await raw(ctx.server, target, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
      assert.equal(head.status, 200);
      assert.equal(head.body.length, 0, `HEAD ${target} with gzip has no body`);
    }
  });

  test('no gzip for gzip;q=0, identity, br only, or no Accept-Encoding', T, async () => {
    for (const target of ['/', ...assets]) {
      const plain = await raw(ctx.server, target);
      for (const ae of ['gzip;q=0', 'gzip; q=0', 'gzip;q=0.0, identity', 'identity', 'br', 'deflate', '']) {
        const res = await raw(ctx.server, target, { headers: ae === '' ? {} : { 'accept-encoding': ae } });
        assert.equal(res.status, 200, `${target} (${ae}): ${show(res)}`);
        assert.equal(res.headers['content-encoding'], undefined, `${target} with Accept-Encoding "${ae}" must not be gzipped: ${show(res)}`);
        assert.deepEqual(res.body, plain.body, `${target} (${ae}): the plain bytes`);
      }
    }
  });

  test('/assets/ (a listing), /assets, unknown assets -> 404', T, async () => {
    for (const target of ['/assets/', '/assets', '/assets//', '/assets/nope-ZZZZZZZZ.js', '/assets/app.js',
      '/assets/index.html', '/assets/sub/dir.js']) {
      expectNotFound(await raw(ctx.server, target), `GET ${target}`);
      expectNotFound(await raw(ctx.server, target, { method: 'HEAD' }), `HEAD ${target}`);
    }
    // An asset name with something appended is another (unknown) name.
    const js = assets.find((a) => a.endsWith('.js'));
    expectNotFound(await raw(ctx.server, `${js}.map`), `${js}.map`);
    expectNotFound(await raw(ctx.server, `${js}/x`), `${js}/x`);
  });

  test('.. / %2e%2e / %2f escapes -> 404, never a file', T, async () => {
    const js = assets.find((a) => a.endsWith('.js')).slice('/assets/'.length);
    for (const target of [
      '/..', '/../../../../etc/passwd', '/assets/../../../../etc/passwd', '/assets/..', '/assets/.',
      '/%2e%2e', '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/%2E%2E/%2E%2E/etc/passwd',
      '/assets/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/assets/%2e%2e', '/assets/%2e%2e/index.html',
      '/..%2f..%2f..%2fetc%2fpasswd', '/assets/..%2f..%2f..%2fetc%2fpasswd', '/assets/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '/%2fetc%2fpasswd', '/assets/%2fetc%2fpasswd', `/assets/x%2f${js}`, '/assets/..%5c..%5cetc%5cpasswd',
      '/assets/%00', `/assets/${js}%00`, '/index.html%00', '/projects/%2e%2e/%2e%2e/etc/passwd',
      '/projects/..%2f..%2fetc/passwd',
    ]) {
      expectNotFound(await raw(ctx.server, target), `GET ${target}`);
    }
    await expectHealthy(ctx.server, 'after the escapes');
  });

  test('unknown /api/ paths stay JSON 404 (GET and HEAD); known API routes are unaffected', T, async () => {
    for (const p of ['/api', '/api/', '/api/nope', '/api/projects/x/y/z/w', '/api/assets/app.js', '/api/index.html',
      '/%61pi/nope']) {
      const res = await request(ctx.server, 'GET', p);
      expectStatus(res, 404, `GET ${p}`);
      const head = await raw(ctx.server, p, { method: 'HEAD' });
      assert.equal(head.status, 404, `HEAD ${p}: ${show(head)}`);
      assert.doesNotMatch(head.headers['content-type'] || '', /html/i, `HEAD ${p} is not the page`);
    }
    const hz = await request(ctx.server, 'GET', '/healthz');
    assert.equal(hz.status, 200);
    assert.deepEqual(hz.json, { ok: true });
    // A route that exists still needs its token (the page does not swallow it).
    expectStatus(await request(ctx.server, 'GET', '/api/projects'), 401, 'GET /api/projects without a token');
  });

  test('only GET and HEAD are answered with the page: POST / is a JSON 4xx', T, async () => {
    for (const [method, p] of [['POST', '/'], ['PUT', '/projects/abc'], ['DELETE', '/index.html']]) {
      const res = await request(ctx.server, method, p, { raw: '{}' });
      assert.ok(res.status >= 400 && res.status < 500, `${method} ${p}: ${describeRes(res)}`);
      expectStatus(res, res.status, `${method} ${p}`);
    }
  });
});

// ---------------------------------------------------------------- --web-dir

describe('--web-dir DIR: the page from a folder', () => {
  // root/site is served; root/secret.txt lies outside it.
  const root = makeTempDir('polaris-web-');
  const site = path.join(root, 'site');
  const SECRET = `outside-secret-${randomSecret()}`;
  const INDEX = '<!doctype html><html><head><title>dev page</title><script type="module" src="/assets/app-x.js"></script></head><body></body></html>\n';
  const JS = "console.log('plain app-x');\n";
  const JS_GZ = "console.log('from the .gz sibling');\n";
  const hostname = fs.existsSync('/etc/hostname') ? fs.readFileSync('/etc/hostname', 'utf8').trim() : '';
  fs.mkdirSync(path.join(site, 'assets', 'subdir'), { recursive: true });
  fs.writeFileSync(path.join(site, 'index.html'), INDEX);
  fs.writeFileSync(path.join(site, 'assets', 'app-x.js'), JS);
  fs.writeFileSync(path.join(site, 'assets', 'app-x.js.gz'), zlib.gzipSync(JS_GZ));
  fs.writeFileSync(path.join(site, 'assets', 'subdir', 'inner.js'), 'inner');
  fs.writeFileSync(path.join(root, 'secret.txt'), SECRET);
  fs.symlinkSync('/etc/hostname', path.join(site, 'assets', 'host.js'));
  fs.symlinkSync('/etc/hostname', path.join(site, 'hostname.txt'));
  fs.symlinkSync(path.join(root, 'secret.txt'), path.join(site, 'assets', 'secret.js'));
  fs.symlinkSync('../../secret.txt', path.join(site, 'assets', 'relative-secret.js'));
  fs.symlinkSync('/etc', path.join(site, 'assets', 'etc'));
  const secrets = [SECRET, ...(hostname ? [hostname] : [])];

  const ctx = useServer({ args: ['--web-dir', site] });
  after(() => fs.rmSync(root, { recursive: true, force: true }));

  test('/, /index.html and page routes answer the folder\'s index.html with the page headers', T, async () => {
    for (const target of ['/', '/index.html', '/projects/abc', '/projects/abc/x/y']) {
      const res = await raw(ctx.server, target);
      expectPageHeaders(res, `GET ${target}`);
      assert.equal(res.text, INDEX, `GET ${target}`);
      const head = await raw(ctx.server, target, { method: 'HEAD' });
      expectPageHeaders(head, `HEAD ${target}`);
      assert.equal(head.body.length, 0);
    }
  });

  test('/assets/app-x.js: the file, cached for good; with gzip accepted, the .gz sibling', T, async () => {
    const plain = await raw(ctx.server, '/assets/app-x.js');
    expectAssetHeaders(plain, 'plain', /javascript/i);
    assert.equal(plain.text, JS);
    assert.equal(plain.headers['content-encoding'], undefined);
    expectVaryAcceptEncoding(plain, 'plain');
    const gz = await raw(ctx.server, '/assets/app-x.js', { headers: { 'accept-encoding': 'gzip, deflate' } });
    expectAssetHeaders(gz, 'gzip', /javascript/i);
    assert.equal(gz.headers['content-encoding'], 'gzip', show(gz));
    expectVaryAcceptEncoding(gz, 'gzip');
    assert.equal(zlib.gunzipSync(gz.body).toString('utf8'), JS_GZ, 'the .gz sibling is what is sent');
    const refused = await raw(ctx.server, '/assets/app-x.js', { headers: { 'accept-encoding': 'gzip;q=0' } });
    assert.equal(refused.headers['content-encoding'], undefined, show(refused));
    assert.equal(refused.text, JS);
  });

  test('files are read per request: a changed index.html, a new asset, a removed .gz show at once', T, async () => {
    const scratch = path.join(root, 'scratch-site');
    fs.mkdirSync(path.join(scratch, 'assets'), { recursive: true });
    fs.writeFileSync(path.join(scratch, 'index.html'), '<!doctype html><p>v1</p>');
    fs.writeFileSync(path.join(scratch, 'assets', 'a.js'), 'a1');
    fs.writeFileSync(path.join(scratch, 'assets', 'a.js.gz'), zlib.gzipSync('a1'));
    await withServer({ args: ['--web-dir', scratch] }, async (server) => {
      assert.equal((await raw(server, '/')).text, '<!doctype html><p>v1</p>');
      fs.writeFileSync(path.join(scratch, 'index.html'), '<!doctype html><p>v2</p>');
      assert.equal((await raw(server, '/')).text, '<!doctype html><p>v2</p>', 'the rebuilt page shows on reload');
      expectNotFound(await raw(server, '/assets/b.js'), 'before b.js exists');
      fs.writeFileSync(path.join(scratch, 'assets', 'b.js'), 'b1');
      const b = await raw(server, '/assets/b.js', { headers: { 'accept-encoding': 'gzip' } });
      expectAssetHeaders(b, 'new b.js');
      assert.equal(b.headers['content-encoding'], undefined, 'no .gz sibling: sent as it is');
      assert.equal(b.text, 'b1');
      fs.rmSync(path.join(scratch, 'assets', 'a.js.gz'));
      const a = await raw(server, '/assets/a.js', { headers: { 'accept-encoding': 'gzip' } });
      assert.equal(a.headers['content-encoding'], undefined, `the .gz is gone: ${show(a)}`);
      assert.equal(a.text, 'a1');
      fs.rmSync(path.join(scratch, 'assets', 'a.js'));
      expectNotFound(await raw(server, '/assets/a.js'), 'removed a.js');
    });
  });

  test('symbolic links leading out of the folder are not served (to /etc/hostname, to a file beside the folder, to /etc)', T, async () => {
    for (const target of ['/assets/host.js', '/hostname.txt', '/assets/secret.js', '/assets/relative-secret.js',
      '/assets/etc', '/assets/etc/hostname', '/assets/etc/passwd']) {
      expectNotFound(await raw(ctx.server, target), `GET ${target}`, secrets);
      expectNotFound(await raw(ctx.server, target, { headers: { 'accept-encoding': 'gzip' } }), `GET ${target} (gzip)`, secrets);
    }
  });

  test('listings, folders, unknown files and escapes -> 404, never a file from outside', T, async () => {
    for (const target of [
      '/assets/', '/assets', '/assets/subdir', '/assets/subdir/', '/assets/subdir/inner.js', '/assets/nope.js',
      '/assets/app-x.js.gz', '/secret.txt',
      '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/../secret.txt', '/assets/..%2f..%2fsecret.txt',
      '/assets/%2e%2e/%2e%2e/secret.txt', '/assets/%2e%2e%2f%2e%2e%2fsecret.txt', '/assets/../../secret.txt',
      '/assets/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fhostname', '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/hostname',
      '/%2e%2e/site/index.html', '/assets/%2e%2e/index.html', '/assets/..%2findex.html',
    ]) {
      const res = await raw(ctx.server, target);
      if (target === '/assets/app-x.js.gz' && res.status === 200) {
        // Serving the sibling under its own name is harmless; it is a file inside the folder.
        continue;
      }
      expectNotFound(res, `GET ${target}`, secrets);
    }
    await expectHealthy(ctx.server, 'after the escapes');
  });

  test('unknown /api/ paths stay JSON 404 with --web-dir too', T, async () => {
    expectStatus(await request(ctx.server, 'GET', '/api/nope'), 404, 'GET /api/nope');
    expectStatus(await request(ctx.server, 'GET', '/api/'), 404, 'GET /api/');
  });

  test('--web-dir that is a file or does not exist: exits non-zero naming --web-dir, never listens', T, async () => {
    const file = path.join(root, 'not-a-folder.txt');
    fs.writeFileSync(file, 'x');
    for (const dir of [file, path.join(root, 'does-not-exist'), path.join(site, 'index.html')]) {
      const r = await serveExpectingExit(['--web-dir', dir]);
      assert.equal(r.signal, null, `--web-dir ${dir}: must exit by itself, not be killed (stderr: ${r.stderr})`);
      assert.notEqual(r.code, 0, `--web-dir ${dir}: exit code must be non-zero`);
      assert.match(r.stderr, /--web-dir/, `--web-dir ${dir}: the message names --web-dir: ${r.stderr}`);
      assert.doesNotMatch(r.stdout, /polaris listening on/, `--web-dir ${dir}: must not listen: ${r.stdout}`);
    }
  });
});

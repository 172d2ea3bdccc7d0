// Flow 13: how the page's files are served, over plain HTTP (no browser): caching, the CSP,
// gzip, and no way out of the page's files or into a directory listing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import path from 'node:path';
import { startServer, request, rawExchange, parseResponses } from '../e2e/lib/server.mjs';

let server;
before(async () => {
  const args = process.env.POLARIS_WEB_DIR ? ['--web-dir', path.resolve(process.env.POLARIS_WEB_DIR)] : [];
  server = await startServer({ args });
});
after(async () => { if (server) await server.stop(); });

/** Sends one request target verbatim (fetch would clean up "..") and parses the answer. */
async function rawGet(target) {
  const r = await rawExchange(server, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  const [res] = parseResponses(r.data);
  assert.ok(res, `no HTTP answer for ${target}: ${JSON.stringify(r.data.slice(0, 300))}`);
  return res;
}

async function indexAssets() {
  const res = await request(server, 'GET', '/');
  const js = /<script[^>]+src="(\/assets\/app-[^"]+\.js)"/.exec(res.text);
  const css = /<link[^>]+href="(\/assets\/app-[^"]+\.css)"/.exec(res.text);
  assert.ok(js, `index.html must load /assets/app-*.js: ${res.text.slice(0, 800)}`);
  return { js: js[1], css: css?.[1] };
}

test('"/" is the page: HTML, Cache-Control no-cache, a CSP allowing scripts only from itself', async () => {
  const res = await request(server, 'GET', '/');
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') || '', /^text\/html/);
  assert.match(res.text, /<div id="root">|<script/i, 'an HTML page');
  assert.match(res.headers.get('cache-control') || '', /no-cache/);
  const csp = res.headers.get('content-security-policy') || '';
  assert.match(csp, /(^|;)\s*script-src 'self'\s*(;|$)/, `script-src 'self' only: ${csp}`);
  assert.doesNotMatch(csp, /unsafe-eval/);
  assert.doesNotMatch(/script-src[^;]*/.exec(csp)[0], /unsafe-inline/);
  // No inline script in the page: the CSP would block it.
  for (const m of res.text.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/gi)) {
    assert.match(m[1], /src=/, `inline script in index.html: ${m[0].slice(0, 200)}`);
    assert.equal(m[2].trim(), '', 'a script element with a src has no body');
  }
});

test('a page route (/projects/x) answers the same page', async () => {
  const home = await request(server, 'GET', '/');
  const res = await request(server, 'GET', '/projects/p_whatever');
  assert.equal(res.status, 200);
  assert.equal(res.text, home.text);
  assert.match(res.headers.get('content-security-policy') || '', /script-src 'self'/);
});

test('assets: immutable caching, gzip when accepted, identity otherwise', async () => {
  const { js, css } = await indexAssets();
  for (const asset of [js, css].filter(Boolean)) {
    const plain = await request(server, 'GET', asset, { headers: { 'accept-encoding': 'identity' } });
    assert.equal(plain.status, 200, asset);
    assert.match(plain.headers.get('cache-control') || '', /immutable/, `${asset} Cache-Control`);
    assert.equal(plain.headers.get('content-encoding'), null, `${asset} without gzip asked`);
    assert.match(plain.headers.get('content-type') || '', asset.endsWith('.js') ? /javascript/ : /text\/css/);

    // fetch would decode gzip itself; a raw request shows the bytes on the wire.
    const r = await rawExchange(server,
      `GET ${asset} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept-Encoding: gzip\r\nConnection: close\r\n\r\n`);
    const head = r.buf.indexOf('\r\n\r\n');
    const headers = r.buf.subarray(0, head).toString('latin1');
    assert.match(headers, /^HTTP\/1\.1 200/);
    assert.match(headers, /\r\ncontent-encoding: gzip\r\n/i, `${asset} with Accept-Encoding: gzip:\n${headers}`);
    assert.match(headers, /\r\nvary: [^\r]*accept-encoding/i);
    const len = Number(/\r\ncontent-length: (\d+)/i.exec(headers)?.[1]);
    const body = r.buf.subarray(head + 4, head + 4 + len);
    assert.equal(zlib.gunzipSync(body).toString('utf8'), plain.text, `${asset}: gzip body decodes to the asset`);
  }
});

test('no escape from the page files, no directory listing', async () => {
  const targets = [
    '/assets/../../etc/passwd',
    '/assets/../../../../../../etc/passwd',
    '/assets/%2e%2e/%2e%2e/etc/passwd',
    '/assets/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd',
    '/assets/..%2f..%2fetc%2fpasswd',
    '/%2e%2e/%2e%2e/etc/passwd',
    '/assets/..\\..\\etc\\passwd',
    '/assets/%00passwd',
    '/../../etc/passwd',
  ];
  for (const t of targets) {
    const res = await rawGet(t);
    assert.ok([400, 404].includes(res.status), `${t}: 404/400 expected, got ${res.status} ${res.body.slice(0, 200)}`);
    assert.doesNotMatch(res.body, /root:.*:0:0:/, `${t} leaked /etc/passwd`);
  }
  for (const t of ['/assets/', '/assets', '/assets/nope.js']) {
    const res = await rawGet(t);
    assert.equal(res.status, 404, `${t}: 404 expected, got ${res.status} ${res.body.slice(0, 200)}`);
    assert.doesNotMatch(res.body, /app-[\w-]+\.js/, `${t} must not list the assets`);
  }
  // Not a page route: a 404, never the file of that name.
  const res = await rawGet('/etc/passwd');
  assert.doesNotMatch(res.body, /root:.*:0:0:/, '/etc/passwd leaked');
});

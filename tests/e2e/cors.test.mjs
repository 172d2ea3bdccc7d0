// Browsers on another origin (a frontend dev server, ConvexHttpClient in a page) can call the
// API: preflights are answered, and every answer allows any origin. Tokens travel in the
// Authorization header, never in cookies, so this exposes nothing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, makeToken } from './lib/server.mjs';

let server;
before(async () => { server = await startServer(); });
after(async () => { await server.stop(); });

test('a preflight gets 204 with the allowed methods and headers', async () => {
  const res = await fetch(`${server.url}/api/messages`, {
    method: 'OPTIONS',
    headers: {
      Origin: 'http://localhost:5173',
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, content-type',
    },
  });
  assert.equal(res.status, 204);
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.match(res.headers.get('access-control-allow-methods'), /POST/);
  assert.match(res.headers.get('access-control-allow-methods'), /DELETE/);
  assert.match(res.headers.get('access-control-allow-headers'), /Authorization/i);
  assert.match(res.headers.get('access-control-allow-headers'), /Content-Type/i);
  assert.match(res.headers.get('access-control-allow-headers'), /Convex-Client/i);
});

test('answers (success and error) allow any origin; auth is still required', async () => {
  const origin = { Origin: 'http://localhost:5173' };
  const anon = await fetch(`${server.url}/api/projects`, { headers: origin });
  assert.equal(anon.status, 401);
  assert.equal(anon.headers.get('access-control-allow-origin'), '*');
  const token = makeToken('cors-user', server.secret);
  const ok = await fetch(`${server.url}/api/projects`, { headers: { ...origin, Authorization: `Bearer ${token}` } });
  assert.equal(ok.status, 200);
  assert.equal(ok.headers.get('access-control-allow-origin'), '*');
});

test('OPTIONS without a preflight header is still an unknown method (405)', async () => {
  const res = await fetch(`${server.url}/api/projects`, { method: 'OPTIONS' });
  assert.equal(res.status, 405);
});

// Auth: /healthz, Bearer JWT checks (HS256, JWKS RS256/ES256, iss/aud), `polaris token`.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  useServer, startServer, request, client, makeToken, signJwt, b64url, decodeJwtPart, polarisToken,
  expectStatus, expectOk, expectHealthy, describeRes, newUser, makeTempDir, randomSecret,
} from './lib/server.mjs';

const nowSec = () => Math.floor(Date.now() / 1000);
const b64json = (o) => b64url(JSON.stringify(o));

describe('healthz and HS256 tokens', () => {
  const ctx = useServer();

  test('GET /healthz answers 200 {"ok":true} without auth', async () => {
    const res = await request(ctx.server, 'GET', '/healthz');
    expectOk(res, 'GET /healthz');
    assert.deepEqual(res.json, { ok: true });
    assert.match(res.headers.get('content-type') || '', /application\/json/i);
  });

  test('GET /healthz ignores a garbage Authorization header', async () => {
    const res = await request(ctx.server, 'GET', '/healthz', { auth: 'Bearer garbage' });
    expectOk(res, 'GET /healthz with a bad token');
    assert.deepEqual(res.json, { ok: true });
  });

  test('a valid HS256 token is accepted: GET /api/projects -> 200 []', async () => {
    const res = await request(ctx.server, 'GET', '/api/projects', { token: ctx.token(newUser()) });
    expectOk(res, 'GET /api/projects with a valid token');
    assert.deepEqual(res.json, [], 'a new user has no projects (bare JSON array)');
  });

  const bad = [
    ['no Authorization header', () => ({})],
    ['empty Authorization header', () => ({ auth: '' })],
    ['Basic scheme', () => ({ auth: 'Basic ' + Buffer.from('a:b').toString('base64') })],
    ['"Bearer" without a token', () => ({ auth: 'Bearer' })],
    ['"Bearer " with an empty token', () => ({ auth: 'Bearer ' })],
    ['token without Bearer prefix', () => ({ auth: ctx.token('u1') })],
    ['garbage token', () => ({ auth: 'Bearer not-a-jwt' })],
    ['two-part token', () => ({ auth: 'Bearer ' + ctx.token('u1').split('.').slice(0, 2).join('.') })],
    ['four-part token', () => ({ auth: 'Bearer ' + ctx.token('u1') + '.abc' })],
    ['non-base64 segments', () => ({ auth: 'Bearer !!!.@@@.###' })],
    ['header not JSON', () => ({ auth: 'Bearer ' + signJwt({ sub: 'u', exp: nowSec() + 600 }, ctx.server.secret, b64url('nope')) })],
    ['payload not JSON', () => ({ auth: 'Bearer ' + signJwt(b64url('nope'), ctx.server.secret) })],
    ['payload a JSON array', () => ({ auth: 'Bearer ' + signJwt(b64url('[1,2]'), ctx.server.secret) })],
    ['expired token (exp an hour ago)', () => ({ token: ctx.token('u1', { iat: nowSec() - 7200, exp: nowSec() - 3600 }) })],
    ['wrong secret', () => ({ token: makeToken('u1', randomSecret()) })],
    ['secret with one extra byte', () => ({ token: makeToken('u1', ctx.server.secret + 'x') })],
    ['missing sub', () => ({ token: ctx.token(undefined) })],
    ['empty sub', () => ({ token: ctx.token('') })],
    ['missing exp', () => ({ token: ctx.token('u1', { exp: undefined }) })],
    ['exp as a string', () => ({ token: ctx.token('u1', { exp: String(nowSec() + 3600) }) })],
    ['alg:none with empty signature', () => {
      const t = `${b64json({ alg: 'none', typ: 'JWT' })}.${b64json({ sub: 'u1', iat: nowSec(), exp: nowSec() + 3600 })}.`;
      return { token: t };
    }],
    ['alg:none with an HMAC signature', () => ({ token: signJwt({ sub: 'u1', exp: nowSec() + 3600 }, ctx.server.secret, { alg: 'none', typ: 'JWT' }) })],
    ['alg:"None" (case variant)', () => {
      const t = `${b64json({ alg: 'None', typ: 'JWT' })}.${b64json({ sub: 'u1', exp: nowSec() + 3600 })}.`;
      return { token: t };
    }],
    ['alg:RS256 header but HMAC-signed with the secret (alg confusion)', () => ({ token: signJwt({ sub: 'u1', exp: nowSec() + 3600 }, ctx.server.secret, { alg: 'RS256', typ: 'JWT' }) })],
    ['header without alg', () => ({ token: signJwt({ sub: 'u1', exp: nowSec() + 3600 }, ctx.server.secret, { typ: 'JWT' }) })],
    ['tampered payload (sub changed, signature kept)', () => {
      const [h, , s] = ctx.token('alice').split('.');
      return { token: `${h}.${b64json({ sub: 'mallory', iat: nowSec(), exp: nowSec() + 3600 })}.${s}` };
    }],
    ['tampered payload (exp extended on an expired token)', () => {
      const [h, , s] = ctx.token('u1', { exp: nowSec() - 10 }).split('.');
      return { token: `${h}.${b64json({ sub: 'u1', iat: nowSec(), exp: nowSec() + 99999 })}.${s}` };
    }],
    ['signature stripped', () => {
      const [h, p] = ctx.token('u1').split('.');
      return { token: `${h}.${p}.` };
    }],
    ['signature truncated', () => {
      const t = ctx.token('u1');
      return { token: t.slice(0, -4) };
    }],
  ];

  for (const [name, make] of bad) {
    test(`401 for ${name}`, async () => {
      const res = await request(ctx.server, 'GET', '/api/projects', make());
      expectStatus(res, 401, `GET /api/projects with ${name}`);
    });
  }

  test('401 on every kind of /api/ route without a token', async () => {
    const p = 'prj_' + 'a'.repeat(26);
    const c = 'cnv_' + 'a'.repeat(26);
    const f = 'fil_' + 'a'.repeat(26);
    const routes = [
      ['GET', '/api/projects'], ['POST', '/api/projects'], ['POST', '/api/projects/create'],
      ['GET', `/api/projects/${p}`], ['PATCH', `/api/projects/${p}`], ['DELETE', `/api/projects/${p}`],
      ['DELETE', `/api/projects/delete?projectId=${p}`], ['GET', `/api/projects/${p}/files`],
      ['GET', `/api/projects/${p}/files/content?path=a.txt`], ['PUT', `/api/projects/${p}/files/content`],
      ['POST', `/api/projects/${p}/folders`], ['PATCH', `/api/files/${f}`], ['DELETE', `/api/files/${f}`],
      ['POST', '/api/conversations'], ['GET', `/api/projects/${p}/conversations`],
      ['GET', `/api/conversations/${c}`], ['GET', `/api/conversations/${c}/messages`],
    ];
    for (const [m, u] of routes) {
      const body = m === 'GET' || m === 'DELETE' ? undefined : { name: 'x', path: 'a', content: 'b', projectId: p };
      const res = await request(ctx.server, m, u, { body });
      expectStatus(res, 401, `${m} ${u} without a token`);
    }
  });

  test('auth is checked before the body: bad token + malformed JSON -> 401', async () => {
    for (const raw of ['{"name":', 'not json', '', '{"name": 5}']) {
      const res = await request(ctx.server, 'POST', '/api/projects', { raw, auth: 'Bearer bad.token.here' });
      expectStatus(res, 401, `POST /api/projects bad token + body ${JSON.stringify(raw)}`);
      const res2 = await request(ctx.server, 'POST', '/api/projects', { raw });
      expectStatus(res2, 401, `POST /api/projects no token + body ${JSON.stringify(raw)}`);
    }
  });

  test('auth is checked before the id: bad token + malformed id -> 401', async () => {
    const res = await request(ctx.server, 'GET', '/api/projects/not-an-id', { auth: 'Bearer x' });
    expectStatus(res, 401, 'GET /api/projects/not-an-id with a bad token');
    const res2 = await request(ctx.server, 'GET', '/api/conversations/zzz/messages');
    expectStatus(res2, 401, 'GET /api/conversations/zzz/messages without token');
  });

  test('the user id is the token sub: a project is owned by sub', async () => {
    const sub = newUser('owner');
    const c = ctx.client(sub);
    const created = expectOk(await c.post('/api/projects', { name: 'mine' }), 'create');
    const doc = expectOk(await c.get(`/api/projects/${created.projectId}`), 'get');
    assert.equal(doc.ownerId, sub, 'project.ownerId must be the token sub');
  });

  test('an exotic but valid sub (unicode, slashes, spaces) works', async () => {
    const sub = `user|auth0/ü ${newUser()}`;
    const c = ctx.client(sub);
    const created = expectOk(await c.post('/api/projects', { name: 'x' }), 'create');
    const doc = expectOk(await c.get(`/api/projects/${created.projectId}`), 'get');
    assert.equal(doc.ownerId, sub);
  });

  test('a token issued a few seconds ago and expiring soon is accepted', async () => {
    const t = ctx.token(newUser(), { iat: nowSec() - 5, exp: nowSec() + 30 });
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token: t }), 'fresh short-lived token');
  });

  test('extra unknown claims and header fields are tolerated', async () => {
    const t = signJwt({ sub: newUser(), iat: nowSec(), exp: nowSec() + 600, foo: 'bar', nested: { a: 1 } },
      ctx.server.secret, { alg: 'HS256', typ: 'JWT', kid: 'whatever' });
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token: t }), 'token with extra claims');
  });

  test('`polaris token --user` output is accepted by the server', async () => {
    const sub = newUser('cli');
    const tok = await polarisToken({ user: sub, dataDir: ctx.server.dataDir, secret: ctx.server.secret });
    assert.match(tok, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/, `polaris token printed something that is not a JWT: ${tok}`);
    const hdr = decodeJwtPart(tok, 0);
    const pl = decodeJwtPart(tok, 1);
    assert.equal(hdr.alg, 'HS256');
    assert.equal(pl.sub, sub);
    assert.equal(typeof pl.exp, 'number');
    const c = client(ctx.server, tok);
    const created = expectOk(await c.post('/api/projects', { name: 'from cli token' }), 'create with CLI token');
    const doc = expectOk(await c.get(`/api/projects/${created.projectId}`), 'get with CLI token');
    assert.equal(doc.ownerId, sub);
  });

  test('`polaris token --ttl` sets exp ≈ now + ttl, and it verifies with our secret', async () => {
    const before = nowSec();
    const tok = await polarisToken({ user: 'ttl-user', ttl: 120, dataDir: ctx.server.dataDir, secret: ctx.server.secret });
    const pl = decodeJwtPart(tok, 1);
    assert.ok(pl.exp >= before + 120 - 2 && pl.exp <= nowSec() + 120 + 2, `exp ${pl.exp} should be about now+120 (${before + 120})`);
    // The CLI signs with POLARIS_JWT_SECRET as raw bytes: our own HS256 signer must reproduce it.
    const [h, p] = tok.split('.');
    const again = signJwt(p, ctx.server.secret, h);
    assert.equal(again, tok, 'signature must be HMAC-SHA256(secret as raw bytes, header.payload)');
  });

  test('`polaris token --ttl 1` gives exp ≈ now+1 and is accepted at once', async () => {
    const tok = await polarisToken({ user: newUser('short'), ttl: 1, dataDir: ctx.server.dataDir, secret: ctx.server.secret });
    const pl = decodeJwtPart(tok, 1);
    assert.ok(pl.exp <= nowSec() + 2, `--ttl 1 should give exp ≈ now+1, got exp=${pl.exp} now=${nowSec()}`);
    // Servers may allow a small clock-skew leeway (this one: 30 s), so expiry itself is
    // checked with forged tokens that expired well beyond any reasonable leeway.
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token: tok }), 'fresh --ttl 1 token');
  });

  test('401 for a token that expired 90 s ago (beyond any sane leeway)', async () => {
    const t = ctx.token(newUser(), { iat: nowSec() - 200, exp: nowSec() - 90 });
    expectStatus(await request(ctx.server, 'GET', '/api/projects', { token: t }), 401, 'exp = now - 90 s');
  });

  test('a fractional exp (NumericDate may be non-integer) is accepted', async () => {
    const t = ctx.token(newUser(), { exp: nowSec() + 600.5, iat: nowSec() + 0.25 });
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token: t }), 'exp with a fraction');
  });

  test('absurd exp values (1e300, -1, huge integer) never crash the server', async () => {
    for (const exp of [1e300, -1, 0, Number.MAX_SAFE_INTEGER]) {
      const res = await request(ctx.server, 'GET', '/api/projects', { token: ctx.token(newUser(), { exp }) });
      assert.ok([200, 401].includes(res.status), `exp=${exp}: ${describeRes(res)}`);
      if (exp <= 0) expectStatus(res, 401, `exp=${exp}`);
    }
    await expectHealthy(ctx.server, 'absurd exp');
  });

  test('a validly signed token with a 2,800-deep claim (fits the 8 KiB token) is refused or accepted, never a crash', async () => {
    const payload = `{"sub":"${newUser()}","exp":${nowSec() + 600},"deep":${'['.repeat(2800)}${']'.repeat(2800)}}`;
    const t = signJwt(b64url(payload), ctx.server.secret);
    const res = await request(ctx.server, 'GET', '/api/projects', { token: t });
    assert.ok([200, 401, 431].includes(res.status), describeRes(res));
    await expectHealthy(ctx.server, 'deep claim');
  });

  test('the server keeps working after many bad tokens', async () => {
    await Promise.all(Array.from({ length: 50 }, (_, i) =>
      request(ctx.server, 'GET', '/api/projects', { auth: `Bearer ${'x'.repeat(i * 50)}.${'y'.repeat(i)}.z` })));
    await expectHealthy(ctx.server, 'after 50 bad tokens');
  });

  test('an 8 KiB garbage token -> 401 (or 431), never 500', async () => {
    const res = await request(ctx.server, 'GET', '/api/projects', { auth: 'Bearer ' + 'a'.repeat(8000) + '.b.c' });
    assert.ok([401, 431, 400].includes(res.status), `got ${describeRes(res)}`);
    await expectHealthy(ctx.server);
  });
});

describe('POLARIS_JWT_ISSUER / POLARIS_JWT_AUDIENCE', () => {
  const ctx = useServer({ env: { POLARIS_JWT_ISSUER: 'https://issuer.example', POLARIS_JWT_AUDIENCE: 'polaris-aud' } });
  const good = { iss: 'https://issuer.example', aud: 'polaris-aud' };

  test('matching iss and aud -> 200', async () => {
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token: ctx.token(newUser(), good) }));
  });
  test('aud as an array containing the audience -> 200', async () => {
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token: ctx.token(newUser(), { ...good, aud: ['other', 'polaris-aud'] }) }));
  });
  for (const [name, extra] of [
    ['missing iss', { ...good, iss: undefined }],
    ['wrong iss', { ...good, iss: 'https://evil.example' }],
    ['missing aud', { ...good, aud: undefined }],
    ['wrong aud', { ...good, aud: 'other' }],
    ['aud array without the audience', { ...good, aud: ['a', 'b'] }],
  ]) {
    test(`401 for ${name}`, async () => {
      expectStatus(await request(ctx.server, 'GET', '/api/projects', { token: ctx.token('u', extra) }), 401, name);
    });
  }
});

describe('POLARIS_JWKS_FILE (RS256, ES256)', () => {
  const dir = makeTempDir('polaris-jwks-');
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const otherRsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rsaJwk = { ...rsa.publicKey.export({ format: 'jwk' }), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
  const ecJwk = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1', alg: 'ES256', use: 'sig' };
  const jwksPath = path.join(dir, 'jwks.json');
  fs.writeFileSync(jwksPath, JSON.stringify({ keys: [rsaJwk, ecJwk] }));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const ctx = useServer({ env: { POLARIS_JWKS_FILE: jwksPath } });

  function sign(alg, key, kid, payload) {
    const h = b64json({ alg, typ: 'JWT', kid });
    const p = b64json(payload);
    const data = Buffer.from(`${h}.${p}`);
    const sig = alg === 'RS256'
      ? crypto.sign('sha256', data, key)
      : crypto.sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' });
    return `${h}.${p}.${b64url(sig)}`;
  }
  const payload = (sub) => ({ sub, iat: nowSec(), exp: nowSec() + 600 });

  test('RS256 token signed by a JWKS key -> 200 and sub is the user', async () => {
    const sub = newUser('rs');
    const c = client(ctx.server, sign('RS256', rsa.privateKey, 'rsa-1', payload(sub)));
    const { projectId } = expectOk(await c.post('/api/projects', { name: 'rs' }), 'create with RS256');
    assert.equal(expectOk(await c.get(`/api/projects/${projectId}`)).ownerId, sub);
  });
  test('ES256 token signed by a JWKS key -> 200', async () => {
    const t = sign('ES256', ec.privateKey, 'ec-1', payload(newUser('es')));
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token: t }), 'ES256');
  });
  test('HS256 tokens still work when a JWKS is configured', async () => {
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token: ctx.token(newUser()) }));
  });
  for (const [name, make] of [
    ['RS256 signed by a key not in the JWKS', () => sign('RS256', otherRsa.privateKey, 'rsa-1', payload('u'))],
    ['RS256 expired', () => sign('RS256', rsa.privateKey, 'rsa-1', { sub: 'u', iat: nowSec() - 7200, exp: nowSec() - 3600 })],
    ['RS256 without sub', () => sign('RS256', rsa.privateKey, 'rsa-1', { exp: nowSec() + 600 })],
    ['RS256 without exp', () => sign('RS256', rsa.privateKey, 'rsa-1', { sub: 'u' })],
    ['ES256 with a DER (not JWS raw) signature', () => {
      const h = b64json({ alg: 'ES256', typ: 'JWT', kid: 'ec-1' });
      const p = b64json(payload('u'));
      return `${h}.${p}.${b64url(crypto.sign('sha256', Buffer.from(`${h}.${p}`), ec.privateKey))}`;
    }],
    ['RS256 tampered payload', () => {
      const [h, , s] = sign('RS256', rsa.privateKey, 'rsa-1', payload('alice')).split('.');
      return `${h}.${b64json(payload('mallory'))}.${s}`;
    }],
    ['HS256 signed with the RSA public key PEM as secret (alg confusion)', () => {
      const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
      return signJwt(payload('u'), pem, { alg: 'HS256', typ: 'JWT', kid: 'rsa-1' });
    }],
    ['alg:none with a kid', () => `${b64json({ alg: 'none', kid: 'rsa-1' })}.${b64json(payload('u'))}.`],
  ]) {
    test(`401 for ${name}`, async () => {
      expectStatus(await request(ctx.server, 'GET', '/api/projects', { token: make() }), 401, name);
    });
  }
});

describe('no POLARIS_JWT_SECRET: a secret is created in the data dir and reused', () => {
  let dataDir;
  let server;
  before(async () => {
    dataDir = makeTempDir();
    server = await startServer({ dataDir, secret: null });
  });
  after(async () => {
    if (server && !server.stopped) await server.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  });

  test('`polaris token` (no env secret) works against serve, also after a restart', async () => {
    const sub = newUser('nosecret');
    const tok = await polarisToken({ user: sub, dataDir });
    const c = client(server, tok);
    const { projectId } = expectOk(await c.post('/api/projects', { name: 'p' }), 'create with CLI token, generated secret');
    await server.stop({ keepDir: true });
    server = await startServer({ dataDir, secret: null });
    const c2 = client(server, tok);
    const doc = expectOk(await c2.get(`/api/projects/${projectId}`), 'same token after restart');
    assert.equal(doc.ownerId, sub);
    const tok2 = await polarisToken({ user: sub, dataDir });
    expectOk(await client(server, tok2).get('/api/projects'), 'new CLI token after restart');
    // A random secret of ours must not verify.
    expectStatus(await request(server, 'GET', '/api/projects', { token: makeToken(sub, randomSecret()) }), 401);
  });
});

describe('POLARIS_JWT_SECRET is used as raw bytes', () => {
  const secret = 'c2VjcmV0LXNlY3JldA=='; // looks like base64 but must not be decoded
  const ctx = useServer({ secret });

  test('HMAC over the secret string bytes verifies', async () => {
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token: makeToken(newUser(), secret) }));
  });
  test('HMAC over the base64-decoded secret does not verify', async () => {
    const decoded = Buffer.from(secret, 'base64');
    const h = b64json({ alg: 'HS256', typ: 'JWT' });
    const p = b64json({ sub: 'u', iat: nowSec(), exp: nowSec() + 600 });
    const sig = crypto.createHmac('sha256', decoded).update(`${h}.${p}`).digest();
    expectStatus(await request(ctx.server, 'GET', '/api/projects', { token: `${h}.${p}.${b64url(sig)}` }), 401);
  });
});

describe('a short non-ASCII POLARIS_JWT_SECRET', () => {
  const secret = 'sécret-🔑';
  const ctx = useServer({ secret });
  test('tokens signed with its UTF-8 bytes verify; `polaris token` agrees', async () => {
    expectOk(await request(ctx.server, 'GET', '/api/projects', { token: makeToken(newUser(), secret) }));
    const tok = await polarisToken({ user: 'x', dataDir: ctx.server.dataDir, secret });
    const [h, p] = tok.split('.');
    assert.equal(signJwt(p, secret, h), tok);
  });
});

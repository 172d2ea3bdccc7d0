// Issue 9, storage: the SQLite WAL gives its disk back once writes go idle (it never shrank:
// one burst of large writes kept its size for good). Node built-ins only.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { useServer, client, makeToken, newUser, expectOk, sleep, ON_POSTGRES } from './lib/server.mjs';

const MiB = 1024 * 1024;
const walSize = (server) => {
  try {
    return fs.statSync(`${server.dbPath ?? path.join(server.dataDir, 'polaris.db')}-wal`).size;
  } catch {
    return 0;
  }
};

describe('limits: the WAL shrinks when writes go idle', { skip: ON_POSTGRES && 'a SQLite file only' }, () => {
  const ctx = useServer();

  test('40 MB of writes grow the WAL; 2 s without writes truncate it', async (t) => {
    const c = client(ctx.server, makeToken(newUser('wal'), ctx.server.secret));
    const { projectId } = expectOk(await c.post('/api/projects', { name: 'wal' }));
    const content = 'w'.repeat(MiB - 4096);
    let peak = 0;
    // Eight writers at once: the burst must outpace the background checkpoints to grow the WAL.
    for (let i = 0; i < 40; i += 8) {
      await Promise.all(Array.from({ length: 8 }, async (_, j) => {
        expectOk(await c.put(`/api/projects/${projectId}/files/content`, { path: `f${j}.txt`, content: content + (i + j) }));
        peak = Math.max(peak, walSize(ctx.server));
      }));
    }
    if (peak <= 2 * MiB && process.env.POLARIS_SANITIZED === '1') {
      // A sanitized server writes so slowly that the checkpoints keep up with it.
      t.skip(`the WAL never grew (peak ${(peak / MiB).toFixed(1)} MB) under sanitizers`);
      return;
    }
    assert.ok(peak > 2 * MiB, `the burst grows the WAL (peak ${(peak / MiB).toFixed(1)} MB); if not, the test proves nothing`);
    let size = walSize(ctx.server);
    for (let waited = 0; waited < 10_000 && size > 256 * 1024; waited += 250) {
      await sleep(250);
      size = walSize(ctx.server);
    }
    assert.ok(size <= 256 * 1024, `the WAL is truncated when idle: ${(size / MiB).toFixed(1)} MB after 10 s (peak ${(peak / MiB).toFixed(1)} MB)`);
    // Everything is still there.
    const got = expectOk(await c.get(`/api/projects/${projectId}/files/content?path=f7.txt`));
    assert.equal(got.content, content + 39);
  });
});

describe('limits: messages per conversation (POLARIS_MAX_MESSAGES_PER_CONVERSATION=4)', () => {
  const ctx = useServer({ env: { POLARIS_MAX_MESSAGES_PER_CONVERSATION: '4' } });

  test('a POST that would pass the cap is 409 messages_per_conversation; a new conversation works', async () => {
    const c = client(ctx.server, makeToken(newUser('msgcap'), ctx.server.secret));
    const { projectId } = expectOk(await c.post('/api/projects', { name: 'm' }));
    const { conversationId } = expectOk(await c.post('/api/conversations', { projectId, title: 't' }));
    // No provider is configured: each reply fails at once, so the project is free again.
    for (let i = 0; i < 2; i++) {
      expectOk(await c.post('/api/messages', { conversationId, message: `hello ${i}` }));
      for (let t = 0; t < 100; t++) {
        const list = expectOk(await c.get(`/api/conversations/${conversationId}/messages`));
        if (list.every((m) => m.status !== 'processing')) break;
        await sleep(50);
      }
    }
    const full = await c.post('/api/messages', { conversationId, message: 'one more' });
    assert.equal(full.status, 409, `expected 409, got ${full.status} ${full.text}`);
    assert.equal(full.json.limit, 'messages_per_conversation');
    assert.equal(expectOk(await c.get(`/api/conversations/${conversationId}/messages`)).length, 4);
    const next = expectOk(await c.post('/api/conversations', { projectId, title: 't2' }));
    expectOk(await c.post('/api/messages', { conversationId: next.conversationId, message: 'fresh' }));
  });
});

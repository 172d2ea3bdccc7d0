// Store faults on SQLite: the disk fills up, and the database files become read-only, while
// the server is serving (and while a reply is streaming). Expected: every write answers a clear
// 503 (JSON {"error"}, Retry-After) or succeeds, never a 500; reads keep working; the process
// stays alive; once the disk has room again (or the files are writable again) writes succeed,
// the interrupted run ends (completed or failed, never left `processing`), and SIGTERM still
// exits 0.
//
// Both need root: the disk is a small tmpfs mounted as the data dir; read-only is the
// immutable flag (chattr +i) on the database file and its WAL, since root ignores file modes
// and a chmod does not affect the descriptors the server already holds. The -shm file is left
// alone: SQLite maps it into memory, and a write fault there is a SIGBUS in any SQLite program.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  startServer, client, makeToken, newUser, expectOk, expectErrorBody, describeRes, makeTempDir, request,
} from '../e2e/lib/server.mjs';
import { startMock, providerEnv, newChat, postMessage, waitFor, waitFinal, words } from '../e2e/lib/mock.mjs';

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function tryRun(cmd, args) {
  try { execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] }); return null; } catch (e) { return String(e.stderr || e.message).trim(); }
}

/** Why a tmpfs cannot be mounted here (null when it can). */
function tmpfsUnavailable() {
  if (!isRoot) return 'needs root to mount a small tmpfs as the data dir (run as root to test a full disk)';
  const probe = makeTempDir('polaris-tmpfs-probe-');
  try {
    const err = tryRun('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', probe]);
    if (err) return `cannot mount a tmpfs (${err})`;
    tryRun('umount', [probe]);
    return null;
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

/** Why the immutable flag cannot make an open file read-only under TMPDIR (null when it can). */
function immutableUnavailable() {
  if (!isRoot) return 'needs root: root-only chattr +i is the way to make an open database read-only (a chmod does not affect open descriptors)';
  const dir = makeTempDir('polaris-chattr-probe-');
  const file = path.join(dir, 'probe');
  const fd = fs.openSync(file, 'w+');
  try {
    const err = tryRun('chattr', ['+i', file]);
    if (err) return `chattr +i is not available on ${os.tmpdir()} (${err})`;
    try {
      fs.writeSync(fd, 'x', 0);
      return `the filesystem of ${os.tmpdir()} does not enforce the immutable flag on open files`;
    } catch {
      return null;
    } finally {
      tryRun('chattr', ['-i', file]);
    }
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const TMPFS_SKIP = tmpfsUnavailable();
const IMMUTABLE_SKIP = immutableUnavailable();

/** A write that must answer 200 or a clear 503; returns the status. */
async function writeOr503(res, what) {
  assert.ok([200, 503].includes(res.status), `${what}: a store fault must answer 503 (or succeed), got ${describeRes(res)}`);
  if (res.status === 503) {
    expectErrorBody(res, what);
    const ra = res.headers.get('retry-after');
    assert.ok(ra && /^\d+$/.test(ra), `${what}: a 503 carries Retry-After, got ${JSON.stringify(ra)}`);
  }
  return res.status;
}

/**
 * The common scenario: a server with a mock provider on `dataDir`, a project with a file, a
 * reply streaming slowly; then `breakStore()`, checks while broken, `repairStore()`, checks after.
 */
async function storeFaultScenario({ dataDir, breakStore, repairStore, label }) {
  const mock = await startMock(`${label}-mock`);
  let server;
  try {
    server = await startServer({
      dataDir,
      dbPath: path.join(dataDir, 'polaris.db'),
      // A run stopped by the store gets its lease back quickly, so recovery is fast.
      env: { ...providerEnv(mock), POLARIS_RUN_LEASE_MS: 1000 },
    });
    const c = client(server, makeToken(newUser(label), server.secret));
    const { projectId, conversationId } = await newChat(c);
    const other = expectOk(await c.post('/api/projects', { name: 'second' })).projectId;
    const otherConv = expectOk(await c.post('/api/conversations', { projectId: other, title: 'second chat' })).conversationId;
    expectOk(await c.put(`/api/projects/${projectId}/files/content`, { path: 'keep.txt', content: 'kept' }));
    // A reply that streams for ~3 s (the store breaks in the middle); every later attempt of
    // the run (however many the broken store costs) gets the same short answer (sticky).
    const slow = words(60, 'slow');
    await mock.script([{ type: 'text', text: slow, chunks: 30, delayMs: 100 }, { type: 'text', text: 'Resumed answer.', sticky: true }]);
    const running = await postMessage(c, conversationId, 'stream while the store breaks');
    await waitFor(async () => (await mock.runRequests()).length >= 1, { what: 'the run to reach the provider' });

    await breakStore();

    // Writes: every kind answers a clear 503 (large writes cannot fit in the WAL's spare room).
    let refused = 0;
    for (let i = 0; i < 4; i++) {
      refused += (await writeOr503(await c.put(`/api/projects/${projectId}/files/content`,
        { path: `big${i}.txt`, content: 'x'.repeat(200_000) }), `PUT a 200 KB file (${i})`)) === 503;
    }
    assert.ok(refused >= 1, 'at least one write must be refused with 503 while the store is broken');
    await writeOr503(await c.post('/api/projects', { name: 'while broken' }), 'POST project');
    await writeOr503(await c.post('/api/conversations', { projectId: other, title: 'while broken' }), 'POST conversation');
    const posted = await c.post('/api/messages', { conversationId: otherConv, message: 'while broken' });
    await writeOr503(posted, 'POST message');
    // Reads still work.
    expectOk(await c.get('/api/projects'), 'GET projects while broken');
    const kept = expectOk(await c.get(`/api/projects/${projectId}/files/content?path=keep.txt`), 'GET file while broken');
    assert.equal(kept.content, 'kept');
    expectOk(await c.get(`/api/conversations/${conversationId}/messages`), 'GET messages while broken');
    // Alive.
    assert.ok(server.alive(), `the server died: ${server.stderr.slice(-2000)}`);
    expectOk(await request(server, 'GET', '/healthz'));

    await repairStore();

    // Writes succeed again (the first one may still meet the last failing batch: retry a bit).
    await waitFor(async () => (await c.put(`/api/projects/${projectId}/files/content`,
      { path: 'after.txt', content: 'y'.repeat(100_000) })).status === 200,
    { timeout: 10_000, interval: 200, what: 'a write to succeed once the store is repaired' });
    expectOk(await c.post('/api/projects', { name: 'after repair' }), 'POST project after repair');
    // The run that was streaming ends, without text twice.
    let m;
    try {
      m = await waitFinal(c, conversationId, running.messageId, 20_000);
    } catch (e) {
      const run = (await c.get(`/api/runs/${running.runId}`)).json;
      e.message += `\nrun: ${JSON.stringify(run)}\nserver stderr: ${server.stderr.slice(-3000)}`;
      throw e;
    }
    assert.ok(['completed', 'failed'].includes(m.status), JSON.stringify(m));
    if (m.status === 'failed') assert.ok(m.error && m.error.trim(), `failed with a sentence: ${JSON.stringify(m)}`);
    if (m.status === 'completed') {
      assert.ok([slow, 'Resumed answer.'].includes(m.content), `one answer, not both: ${JSON.stringify(m.content).slice(0, 500)}`);
    }
    // A message posted while broken either was refused (503) or exists and ends too.
    if (posted.status === 200) await waitFinal(c, otherConv, posted.json.messageId, 30_000);
    // And the next message of the project works.
    await mock.script([{ type: 'text', text: 'All good again.' }]);
    const next = await postMessage(c, conversationId, 'and now?');
    const n = await waitFinal(c, conversationId, next.messageId, 15_000);
    assert.equal(n.status, 'completed', JSON.stringify(n));
    assert.equal(n.content, 'All good again.');
    assert.ok(server.alive());
    await server.stop({ keepDir: true });  // exit 0
    server = null;
  } finally {
    if (server && server.alive()) await server.kill9();
    await mock.stop();
  }
}

describe('store faults (SQLite)', () => {
  test('disk full: writes answer 503 with Retry-After, reads work, the process survives, writes succeed once there is room', { skip: TMPFS_SKIP || false, timeout: 90_000 }, async () => {
    const dataDir = makeTempDir('polaris-diskfull-');
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', dataDir]);
    const filler = path.join(dataDir, 'filler');
    try {
      await storeFaultScenario({
        dataDir,
        label: 'diskfull',
        breakStore: async () => {
          // Fill every free block of the tmpfs.
          const fd = fs.openSync(filler, 'w');
          const chunk = Buffer.alloc(64 << 10, 1);
          try {
            for (;;) fs.writeSync(fd, chunk);
          } catch (e) {
            assert.equal(e.code, 'ENOSPC', `filling the disk: ${e.message}`);
          } finally {
            fs.closeSync(fd);
          }
          // Whatever is left (less than one chunk) goes too.
          const fd2 = fs.openSync(filler, 'a');
          try { for (;;) fs.writeSync(fd2, Buffer.alloc(512, 1)); } catch { /* full */ } finally { fs.closeSync(fd2); }
          assert.equal(fs.statfsSync(dataDir).bavail, 0, 'the disk is full');
        },
        repairStore: async () => { fs.rmSync(filler); },
      });
    } finally {
      tryRun('umount', ['-l', dataDir]);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  test('read-only database files: writes answer 503 with Retry-After, reads work, the process survives, writes succeed once writable', { skip: IMMUTABLE_SKIP || false, timeout: 90_000 }, async () => {
    const dataDir = makeTempDir('polaris-readonly-');
    const files = ['polaris.db', 'polaris.db-wal'].map((f) => path.join(dataDir, f));
    try {
      await storeFaultScenario({
        dataDir,
        label: 'readonly',
        breakStore: async () => {
          for (const f of files) assert.ok(fs.existsSync(f), `${f} exists`);
          execFileSync('chattr', ['+i', ...files]);
        },
        repairStore: async () => { execFileSync('chattr', ['-i', ...files]); },
      });
    } finally {
      tryRun('chattr', ['-i', ...files]);
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});


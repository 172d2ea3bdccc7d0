// The PostgreSQL server restarts under load, with two `polaris serve` processes on one database.
// While it is down, requests fail with a clear 503 (Retry-After, {"error"}), never a 500 and
// never a hang; once it is back, both processes answer 200 again without being restarted, and
// every write that was answered 200 is there when read back.
//
// It stops the cluster of POLARIS_TEST_PG_DIR (scripts/pg-cluster.sh), which every other test
// on that cluster shares: scripts/run-tests.sh runs this folder alone, after the PostgreSQL
// suite. Skipped unless POLARIS_TEST_PG_URI and POLARIS_TEST_PG_DIR are set. Node built-ins only.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  REPO_ROOT, startServer, createPgDatabase, randomSecret, makeToken, client, newUser, expectOk, sleep,
} from '../e2e/lib/server.mjs';
import { startMock, providerEnv, newChat, postMessage, getMessage, waitFor, waitStatus, words } from '../e2e/lib/mock.mjs';

const PG = process.env.POLARIS_TEST_PG_URI || '';
const PG_DIR = process.env.POLARIS_TEST_PG_DIR || '';
const LEASE_MS = 2000;
const CLIENT_TIMEOUT_MS = 5000; // a request that takes longer counts as a hang
const RECOVERY_DEADLINE_MS = 30_000;
const show = (v) => { try { return JSON.stringify(v); } catch { return String(v); } };

/** Runs scripts/pg-cluster.sh CMD PG_DIR; resolves its stdout (trimmed). */
function pgCluster(cmd) {
  return new Promise((resolve, reject) => {
    execFile('bash', [path.join(REPO_ROOT, 'scripts', 'pg-cluster.sh'), cmd, PG_DIR], { timeout: 90_000 },
      (err, stdout, stderr) => {
        if (err) reject(new Error(`pg-cluster.sh ${cmd} ${PG_DIR} failed: ${err.message}\n${stderr}`));
        else resolve(String(stdout).trim());
      });
  });
}

const hostPort = (uri) => new URL(uri).host;

/** What a failure report needs: the run's and message's rows, and each process's last words. */
function diagnose(db, messageId, servers) {
  const sql = (q) => {
    try {
      return execFileSync('psql', [db, '-Atc', q], { encoding: 'utf8', timeout: 10_000 }).trim();
    } catch (err) {
      return `(psql failed: ${err.message})`;
    }
  };
  const id = messageId.replace(/[^A-Za-z0-9_-]/g, '');
  return [
    `message: ${sql(`SELECT status, error, length(content) FROM messages WHERE id='${id}'`)}`,
    `run: ${sql(`SELECT status, attempt, lease_owner, lease_expires_at - (extract(epoch from now())*1000)::bigint AS lease_left_ms, error FROM runs WHERE message_id='${id}'`)}`,
    ...servers.map((s, i) => `stderr of ${'AB'[i]}:\n${s.stderr.slice(-3000)}`),
  ].join('\n');
}

/**
 * One request, recorded: {who, kind, method, path, t0, t1, status ('timeout'/'error' when
 * there was no HTTP answer), retryAfter, json, text}.
 */
async function recorded(log, who, kind, c, method, p, body, extra = {}) {
  const e = { who, kind, method, path: p, t0: Date.now(), ...extra };
  try {
    const res = await c.req(method, p, { body, timeout: CLIENT_TIMEOUT_MS });
    Object.assign(e, { status: res.status, retryAfter: res.headers.get('retry-after'), json: res.json,
      text: res.text.slice(0, 300), contentType: res.headers.get('content-type') || '' });
  } catch (err) {
    e.status = err?.name === 'TimeoutError' || err?.name === 'AbortError' ? 'timeout' : 'error';
    e.error = String(err?.cause?.code || err?.message || err);
  }
  e.t1 = Date.now();
  log.push(e);
  return e;
}

/**
 * A traffic loop on one process: writes a new file, reads back a file answered earlier, now and
 * then creates a project; every answer goes to `log`. Runs until state.stop.
 */
async function trafficLoop(state, who, c, projectId, worker) {
  let i = 0;
  const written = [];
  while (!state.stop) {
    i += 1;
    const p = `load/${who}${worker}/f${i}.txt`;
    const content = `${who}${worker} ${i} ${crypto.randomBytes(6).toString('hex')}`;
    const w = await recorded(state.log, who, 'write', c, 'PUT', `/api/projects/${projectId}/files/content`,
      { path: p, content }, { file: { projectId, path: p, content } });
    if (w.status === 200) written.push(w.file);
    if (written.length) {
      const f = written[Math.floor(Math.random() * written.length)];
      await recorded(state.log, who, 'read', c, 'GET',
        `/api/projects/${f.projectId}/files/content?path=${encodeURIComponent(f.path)}`, undefined, { expect: f });
    }
    if (i % 5 === 0) {
      const name = `load ${who}${worker} ${i}`;
      await recorded(state.log, who, 'project', c, 'POST', '/api/projects', { name }, { projectName: name });
    }
    if (w.status !== 200) await sleep(50); // no hot loop while the database is down
  }
}

describe('the database restarts under load', {
  skip: !(PG && PG_DIR) && 'needs POLARIS_TEST_PG_URI and POLARIS_TEST_PG_DIR (scripts/run-tests.sh runs it alone)',
}, () => {
  test('two processes: 503 + Retry-After while it is down, both recover without a restart, no answered write lost', { timeout: 240_000 }, async () => {
    const mock = await startMock('restart-mock');
    const db = createPgDatabase();
    const secret = randomSecret();
    const env = { ...providerEnv(mock), POLARIS_RUN_LEASE_MS: LEASE_MS, POLARIS_MAX_REQUESTS_PER_USER: 128,
      // The loops create a project every fifth round, for as long as the stop takes (it checkpoints
      // first): the quota is not what this test is about.
      POLARIS_MAX_PROJECTS_PER_USER: 100000 };
    const servers = [];
    const state = { stop: false, log: [] };
    let loops = [];
    let clusterDown = false;
    let passed = false;
    try {
      servers.push(await startServer({ db, secret, env }));
      servers.push(await startServer({ db, secret, env }));
      const [A, B] = servers;
      const pids = servers.map((s) => s.proc.pid);
      const token = makeToken(newUser('dbr'), secret);
      const cA = client(A, token);
      const cB = client(B, token);
      const projectId = expectOk(await cA.post('/api/projects', { name: 'load' }), 'create project').projectId;

      // A run that streams across the outage (its outcome is only required not to hang).
      const chat = await newChat(cA);
      await mock.script([{ type: 'text', text: words(40, 'run'), chunks: 40, delayMs: 150 }]);
      const run = await postMessage(cA, chat.conversationId, 'stream through the outage');

      // Two traffic loops per process, each writing into its own folder. The folders exist
      // first: concurrent creation of one missing parent folder from two processes is tested
      // in tests/e2e/multiprocess.test.mjs, not here.
      for (const f of ['A1', 'A2', 'B1', 'B2']) expectOk(await cA.post(`/api/projects/${projectId}/folders`, { path: `load/${f}` }), 'create folder');
      const tTraffic = Date.now();
      loops = [['A', cA, 1], ['A', cA, 2], ['B', cB, 1], ['B', cB, 2]]
        .map(([who, c, n]) => trafficLoop(state, who, c, projectId, n));
      const okWrites = (who, after = 0) => state.log.filter((e) => e.who === who && e.kind === 'write' && e.status === 200 && e.t0 > after).length;
      await waitFor(() => okWrites('A') >= 10 && okWrites('B') >= 10,
        { timeout: 20_000, what: 'traffic to flow on both processes (10 writes answered 200 each)' });

      console.log(`warm-up: ${Date.now() - tTraffic} ms, ${state.log.length} requests`);
      // The database goes away.
      const uriBefore = fs.readFileSync(path.join(PG_DIR, 'uri'), 'utf8').trim();
      clusterDown = true;
      await pgCluster('stop');
      const tStopped = Date.now();
      const downAnswers = (who) => state.log.filter((e) => e.who === who && e.t0 > tStopped && e.status === 503);
      await waitFor(() => downAnswers('A').length >= 3 && downAnswers('B').length >= 3, {
        timeout: 20_000,
        what: 'both processes to answer 503 while the database is down',
      }).catch((e) => {
        const after = state.log.filter((x) => x.t0 > tStopped).slice(-10);
        e.message += `\nlast answers: ${show(after)}`;
        throw e;
      });
      await sleep(1500); // a little longer down, under load

      // It comes back, on the same address.
      const uriAfter = await pgCluster('start');
      clusterDown = false;
      const tStarted = Date.now();
      assert.equal(hostPort(uriAfter), hostPort(uriBefore), 'the cluster must come back on the same port (pg-cluster.sh prefers the last port)');

      // Both processes answer 200 again (reads and writes) without a restart of their own.
      const recovered = (who) => state.log.some((e) => e.who === who && e.kind === 'write' && e.status === 200 && e.t0 > tStarted)
        && state.log.some((e) => e.who === who && e.kind === 'read' && e.status === 200 && e.t0 > tStarted);
      await waitFor(() => recovered('A') && recovered('B'), {
        timeout: RECOVERY_DEADLINE_MS,
        what: `both processes to answer 200 again within ${RECOVERY_DEADLINE_MS} ms of the database's return`,
      }).catch((e) => {
        e.message += `\nlast answers: ${show(state.log.slice(-10))}`;
        throw e;
      });
      const recoveredAt = Date.now();
      console.log(`database down ${tStarted - tStopped} ms; both processes answered 200 again ${recoveredAt - tStarted} ms after it was back`);
      await sleep(1000); // some traffic after the recovery
      state.stop = true;
      await Promise.all(loops);

      for (const [i, s] of servers.entries()) {
        assert.ok(s.alive(), `process ${'AB'[i]} must still run (exit ${s.proc.exitCode}, signal ${s.proc.signalCode})\nstderr: ${s.stderr.slice(-2000)}`);
        assert.equal(s.proc.pid, pids[i], 'not restarted');
      }

      // Every answer was a 200 or a clear 503: no 500, no hang, no dropped connection.
      const bad = state.log.filter((e) => e.status !== 200 && e.status !== 503);
      assert.deepEqual(bad.map((e) => ({ who: e.who, kind: e.kind, status: e.status, error: e.error, text: e.text, atMsAfterStop: e.t0 - tStopped })), [],
        'every request gets 200 or 503 (no 500, no timeout, no connection error)');
      const unavailable = state.log.filter((e) => e.status === 503);
      assert.ok(unavailable.length >= 6);
      for (const e of unavailable) {
        assert.match(String(e.retryAfter), /^\d+$/, `a 503 carries Retry-After in seconds: ${show(e)}`);
        assert.match(e.contentType, /application\/json/i, `a 503 is JSON: ${show(e)}`);
        assert.ok(e.json && typeof e.json.error === 'string' && e.json.error.trim(), `a 503 carries {"error": sentence}: ${show(e)}`);
      }
      // Reads answered 200 gave the content that was written.
      for (const e of state.log.filter((x) => x.kind === 'read' && x.status === 200)) {
        assert.equal(e.json?.content, e.expect.content, `read of ${e.expect.path} on ${e.who}`);
      }
      // Nothing answered is lost: every write and every project answered 200 is there, on both processes.
      const writes = state.log.filter((e) => e.kind === 'write' && e.status === 200);
      const inOutage = writes.filter((e) => e.t1 > tStopped && e.t0 < tStarted).length;
      console.log(`${state.log.length} requests: ${writes.length} writes answered 200 (${inOutage} overlapping the outage), ${unavailable.length} × 503`);
      const files = expectOk(await cB.get(`/api/projects/${projectId}/files`), 'list files');
      const filesA = expectOk(await cA.get(`/api/projects/${projectId}/files`), 'list files on A');
      assert.equal(filesA.length, files.length, 'both processes list the same files');
      for (const [i, e] of writes.entries()) {
        const c = i % 2 ? cA : cB;
        const res = await c.get(`/api/projects/${projectId}/files/content?path=${encodeURIComponent(e.file.path)}`);
        assert.equal(res.status, 200, `the write of ${e.file.path} (answered 200 by ${e.who}, ${e.t0 - tStopped} ms after the stop) must exist: ${res.text}`);
        assert.equal(res.json.content, e.file.content, `content of ${e.file.path}`);
      }
      const projects = expectOk(await cA.get('/api/projects'), 'list projects');
      const names = new Set(projects.map((x) => x.name));
      for (const e of state.log.filter((x) => x.kind === 'project' && x.status === 200)) {
        assert.ok(names.has(e.projectName), `project "${e.projectName}" (answered 200 by ${e.who}) must exist`);
        assert.ok(projects.some((x) => x._id === e.json.projectId), `project id ${e.json.projectId} must exist`);
      }

      // The run that streamed across the outage does not stay processing.
      const m = await waitFor(async () => {
        const x = await getMessage(cB, chat.conversationId, run.messageId);
        return x.status !== 'processing' ? x : null;
      }, { timeout: RECOVERY_DEADLINE_MS, what: 'the run streamed across the outage to leave "processing"' })
        .catch((e) => {
          e.message += `\n${diagnose(db, run.messageId, servers)}`;
          throw e;
        });
      console.log(`the run that streamed across the outage ended "${m.status}"`);

      // Both processes run new messages again.
      for (const [who, c] of [['A', cA], ['B', cB]]) {
        const next = await newChat(c);
        await mock.script([{ type: 'text', text: `Back on ${who}.` }]);
        const posted = await postMessage(c, next.conversationId, 'are you back?');
        const done = await waitStatus(c, next.conversationId, posted.messageId, 'completed', 20_000);
        assert.equal(done.content, `Back on ${who}.`);
      }
      passed = true;
    } finally {
      state.stop = true;
      await Promise.allSettled(loops);
      if (clusterDown) await pgCluster('start').catch((e) => console.log(`could not start the cluster again: ${e.message}`));
      const stopErrors = [];
      for (const s of servers) {
        if (!s.stopped) await s.stop().catch((e) => stopErrors.push(e));
      }
      await mock.stop();
      // A process that does not stop cleanly after all this is a failure too.
      if (passed && stopErrors.length) throw stopErrors[0];
      for (const e of stopErrors) console.log(`stop: ${e.message}`);
    }
  });
});

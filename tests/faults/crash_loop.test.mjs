// kill -9 at random moments under load, ten times, then the same with two processes on one
// PostgreSQL database (one of them killed ten times while the other keeps serving).
//
// Load: several users, each posting messages into its own project's conversation; the scripted
// answers stream slowly and make tool calls (create_folder ledger/<callId> and write_file
// out/<callId>.txt, ids unique per scripted step). SSE watchers follow every conversation and
// Convex subscribers (the official client) watch every message list. After each kill the
// server is restarted on the same data dir (and port, so the Convex clients reconnect by
// themselves), posting pauses, and once every message has left `processing` (a bounded wait:
// runs resume or fail) the suite checks:
// - no acknowledged POST lost: every 200 with a messageId has its user message and its
//   assistant message;
// - no duplicated tool call: each tool call id once across every message; each recorded
//   create_folder succeeded (a second run of the same call would find the folder and fail);
//   each ledger folder and out/ file belongs to a recorded call, with the call's content;
// - no duplicated text: each step's marker words appear at most once in all messages;
// - the SSE log rebuilt from events and the Convex value end equal to the REST list; SSE ids
//   grow by one per event within a connection;
// - SQLite: PRAGMA integrity_check is "ok" (sqlite3 CLI, read-only, while no process runs).
// The random moments come from a seeded generator; the seed is printed (POLARIS_TEST_SEED
// replays one).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import {
  startServer, makeToken, newUser, expectOk, makeTempDir, randomSecret, sleep, request,
} from '../e2e/lib/server.mjs';
import { startMock, providerEnv, waitFor, words } from '../e2e/lib/mock.mjs';
import { newPair } from '../e2e/lib/pair.mjs';
import { rebuildFromEvents } from '../e2e/lib/sse.mjs';
import { seededRandom, assertUniqueToolCalls, projectFiles } from './lib/faults.mjs';

const SEED = Number(process.env.POLARIS_TEST_SEED || (Date.now() % 2_147_483_647));
console.log(`crash loop seed: ${SEED} (POLARIS_TEST_SEED=${SEED} replays these kill moments)`);

const KILLS = 10;
const USERS = 5;
const DRAIN_TIMEOUT_MS = 30_000;
const PG = process.env.POLARIS_TEST_PG_URI || '';
const LOAD_ENV = {
  POLARIS_MESSAGES_PER_MINUTE: 100_000,
  POLARIS_MAX_REQUESTS_PER_USER: 256,
};

// ---------------------------------------------------------------- optional clients

const convexRequire = createRequire(new URL('../convex/package.json', import.meta.url));
let convex = null;
let convexLib = null;
try {
  convex = { ...convexRequire('convex/browser'), ...convexRequire('convex/server') };
  convexLib = await import('../convex/lib.mjs');
} catch (e) {
  console.log(`note: Convex subscribers left out (tests/convex/node_modules missing: ${e.message.split('\n')[0]})`);
}
const { openSse } = convexLib || {};
let sqliteCli = null;
try { execFileSync('sqlite3', ['-version'], { stdio: 'ignore' }); sqliteCli = 'sqlite3'; } catch { /* skipped below */ }

// ---------------------------------------------------------------- the script

/** One round of scripted steps; call ids and marker words unique per (tag, round, step). */
function roundSteps(tag, round, n) {
  const steps = [];
  for (let k = 0; k < n; k++) {
    const id = `c${tag}${round}_${k}`;
    if (k % 3 === 2) {
      steps.push({ type: 'text', text: words(8, `m${tag}${round}s${k}x`), chunks: 8, delayMs: 70 });
    } else {
      steps.push({
        type: 'tool_calls', text: words(6, `m${tag}${round}s${k}t`), chunks: 6, delayMs: 70,
        calls: [
          { id: `${id}_a`, name: 'create_folder', arguments: { path: `ledger/${id}_a` } },
          { id: `${id}_b`, name: 'write_file', arguments: { path: `out/${id}_b.txt`, content: `written by ${id}_b` } },
        ],
      });
    }
  }
  return steps;
}

// ---------------------------------------------------------------- the world

/**
 * The state of one scenario: `targets` are mutable {url} objects (a restarted process keeps its
 * port, so a target's url never changes), users with their chats, acknowledged POSTs, watchers.
 */
function newWorld(label, rand) {
  return {
    label, rand, users: [], paused: true, stopped: false, drivers: [], figures: {
      kills: 0, acked: 0, messagesChecked: 0, toolCallsChecked: 0, sseEvents: 0, convexUpdates: 0,
    },
  };
}

const call = (target, token, method, p, body) => request(target, method, p, { token, body, timeout: 10_000 });

async function setUpUsers(world, targets, secret) {
  for (let i = 0; i < USERS; i++) {
    const user = newUser(`${world.label}${i}`);
    const token = makeToken(user, secret);
    const t = targets[i % targets.length];
    const projectId = expectOk(await call(t, token, 'POST', '/api/projects', { name: `crash ${i}` })).projectId;
    const conversationId = expectOk(await call(t, token, 'POST', '/api/conversations', { projectId, title: `crash chat ${i}` })).conversationId;
    world.users.push({ i, user, token, projectId, conversationId, acked: [], posted: 0, sse: [], convex: null });
  }
}

/** Posts messages for user u while the world is not paused, one at a time. */
async function driver(world, u, pickTarget) {
  while (!world.stopped) {
    if (world.paused) { await sleep(25); continue; }
    const target = pickTarget();
    const text = `user ${u.i} message ${++u.posted}`;
    let res;
    try {
      res = await call(target, u.token, 'POST', '/api/messages', { conversationId: u.conversationId, message: text });
    } catch {
      await sleep(50);  // the process is down: not acknowledged
      continue;
    }
    if (res.status !== 200) { await sleep(res.status === 409 ? 100 : 200); continue; }
    u.acked.push({ text, messageId: res.json.messageId, runId: res.json.runId });
    world.figures.acked += 1;
    // Wait for this reply to end (or for a kill) before the next message of the project.
    while (!world.stopped && !world.paused) {
      await sleep(100);
      try {
        const r = await call(target, u.token, 'GET', `/api/conversations/${u.conversationId}/messages`);
        const m = r.status === 200 ? r.json.find((x) => x._id === res.json.messageId) : null;
        if (m && m.status !== 'processing') break;
      } catch { break; }
    }
  }
}

function startDrivers(world, pickTargetFor) {
  world.drivers = world.users.map((u) => driver(world, u, pickTargetFor(u)));
}

// ---------------------------------------------------------------- watchers

async function openWatchers(world, u, sseTarget, convexTarget) {
  if (openSse) {
    const s = await openSse(sseTarget, `/api/conversations/${u.conversationId}/events`, { token: u.token });
    assert.equal(s.status, 200, `SSE: ${s.body}`);
    u.sse.push(s);
  }
  if (convex && convexTarget && !u.convex) {
    const { options } = convexLib.clientOptions();
    const c = new convex.ConvexClient(convexTarget.url, options);
    c.setAuth(async () => u.token);
    u.convex = { client: c, watch: convexLib.watch(c, convex.anyApi.messages.getMessages, { conversationId: u.conversationId }) };
  }
}

function closeWatchers(world) {
  for (const u of world.users) {
    for (const s of u.sse) s.close();
    if (u.convex) u.convex.client.close().catch(() => {});
  }
}

const essence = (list) => list.map((m) => ({ _id: m._id, role: m.role, status: m.status ?? null, content: m.content }));

// ---------------------------------------------------------------- the checks

/** Waits until no message of any user is `processing` (through `target`); returns the lists. */
async function drain(world, target, what) {
  const lists = new Map();
  let stuck = [];
  try {
    await waitFor(async () => {
      stuck = [];
      for (const u of world.users) {
        const r = await call(target, u.token, 'GET', `/api/conversations/${u.conversationId}/messages`);
        if (r.status !== 200) return false;
        lists.set(u, r.json);
        for (const m of r.json) if (m.status === 'processing') stuck.push(m);
      }
      return stuck.length === 0;
    }, { timeout: DRAIN_TIMEOUT_MS, interval: 100, what: `${what}: every message to leave "processing"` });
  } catch (e) {
    e.message += `\nstill processing: ${JSON.stringify(stuck).slice(0, 2000)}`;
    throw e;
  }
  return lists;
}

const MARKER = /\bm[A-Za-z]*\d+s\d+[tx]\d+\b/g;

async function checkWorld(world, target, lists, what) {
  const allMessages = [];
  const markerOwner = new Map();
  for (const u of world.users) {
    const list = lists.get(u);
    allMessages.push(...list);
    // Every acknowledged POST: its assistant message, preceded by its user message.
    for (const a of u.acked) {
      const idx = list.findIndex((m) => m._id === a.messageId);
      assert.ok(idx > 0, `${what}: acknowledged message ${a.messageId} ("${a.text}") is lost: ${JSON.stringify(essence(list)).slice(0, 1500)}`);
      const m = list[idx];
      assert.equal(m.role, 'assistant');
      assert.equal(m.triggerRunId, a.runId);
      assert.ok(list.slice(0, idx).some((x) => x.role === 'user' && x.content === a.text),
        `${what}: the user message "${a.text}" is lost`);
    }
    for (const m of list) {
      if (m.role !== 'assistant') continue;
      world.figures.messagesChecked += 1;
      assert.ok(['completed', 'failed', 'cancelled'].includes(m.status), `${what}: ${JSON.stringify(m).slice(0, 500)}`);
      if (m.status === 'failed') assert.ok(m.error && m.error.trim(), `${what}: failed without an error: ${JSON.stringify(m).slice(0, 500)}`);
      // No duplicated text: each marker word once, in one message.
      for (const w of m.content.match(MARKER) || []) {
        assert.ok(!markerOwner.has(w), `${what}: "${w}" appears twice (message ${m._id}${markerOwner.get(w) === m._id ? '' : ` and ${markerOwner.get(w)}`}): ${JSON.stringify(m.content).slice(0, 1500)}`);
        markerOwner.set(w, m._id);
      }
      // Tool calls of a completed message all have results.
      for (const tc of m.toolCalls || []) {
        if (m.status === 'completed') assert.ok(tc.result, `${what}: completed message ${m._id} has a tool call without result: ${JSON.stringify(tc)}`);
      }
    }
    // Files: every ledger folder / out file is a recorded call's, and every recorded call's
    // effect is there exactly once.
    const { byPath } = await projectFiles({ get: (p) => call(target, u.token, 'GET', p) }, u.projectId);
    const recorded = new Map();
    for (const m of list) for (const tc of m.toolCalls || []) recorded.set(tc.id, tc);
    for (const [p, f] of byPath) {
      const leaf = p.split('/').pop();
      if (p.startsWith('ledger/')) {
        assert.equal(f.type, 'folder');
        const tc = recorded.get(leaf);
        assert.ok(tc && tc.result, `${what}: folder ${p} exists but no recorded call made it`);
      } else if (p.startsWith('out/')) {
        const id = leaf.replace(/\.txt$/, '');
        const tc = recorded.get(id);
        assert.ok(tc && tc.result, `${what}: file ${p} exists but no recorded call wrote it`);
        const content = expectOk(await call(target, u.token, 'GET', `/api/projects/${u.projectId}/files/content?path=${encodeURIComponent(p)}`)).content;
        assert.equal(content, `written by ${id}`);
      }
    }
    for (const [id, tc] of recorded) {
      world.figures.toolCallsChecked += 1;
      if (!tc.result) continue;  // an interrupted message may hold a call that never ran
      assert.equal(tc.result.success, true, `${what}: tool call ${id} (${tc.name}) failed: a second run of it? ${JSON.stringify(tc)}`);
      const p = tc.name === 'create_folder' ? `ledger/${id}` : `out/${id}.txt`;
      assert.ok(byPath.has(p), `${what}: the call ${id} is recorded as done but ${p} is missing`);
    }
  }
  assertUniqueToolCalls(allMessages, what);

  // Watchers converge on the stored lists.
  for (const u of world.users) {
    const want = essence(lists.get(u));
    for (const s of u.sse.filter((x) => !x.ended)) {
      await waitFor(() => JSON.stringify(essence(rebuildFromEvents(s.events))) === JSON.stringify(want),
        { timeout: 10_000, what: `${what}: SSE of user ${u.i} to match the stored messages` })
        .catch((e) => { e.message += `\nSSE: ${JSON.stringify(essence(rebuildFromEvents(s.events))).slice(0, 1500)}\nREST: ${JSON.stringify(want).slice(0, 1500)}`; throw e; });
      const ids = s.events.map((e) => Number(e.id));
      for (let k = 1; k < ids.length; k++) assert.equal(ids[k], ids[k - 1] + 1, `${what}: SSE ids grow by one: ${ids.slice(0, k + 1).slice(-5)}`);
    }
    if (u.convex) {
      await u.convex.watch.until((v) => Array.isArray(v) && JSON.stringify(essence(v)) === JSON.stringify(want),
        `${what}: the Convex value of user ${u.i} to match the stored messages`, 20_000);
    }
  }
}

function integrityCheck(dbPath, what) {
  const out = execFileSync(sqliteCli, ['-readonly', dbPath, 'PRAGMA integrity_check;'], { encoding: 'utf8' }).trim();
  assert.equal(out, 'ok', `${what}: PRAGMA integrity_check: ${out}`);
}

/** Starts a server on `port` (retrying while the port is still taken by the dead process). */
async function startOnPort(opts, port) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await startServer({ ...opts, envOnly: true, args: ['--port', String(port)] });
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(100);
    }
  }
}

/** Closes a user's SSE connections (counting their events). */
function dropSse(world, u) {
  for (const s of u.sse) { world.figures.sseEvents += s.events.length; s.close(); }
  u.sse = [];
}

async function report(world, target, t0) {
  const f = world.figures;
  for (const u of world.users) dropSse(world, u);
  for (const u of world.users) if (u.convex) f.convexUpdates += u.convex.watch.values.length;
  // How the acknowledged messages ended, and how many runs a kill interrupted (attempt > 1).
  const statuses = {};
  let resumed = 0;
  for (const u of world.users) {
    const list = expectOk(await call(target, u.token, 'GET', `/api/conversations/${u.conversationId}/messages`));
    for (const a of u.acked) {
      const m = list.find((x) => x._id === a.messageId);
      statuses[m.status] = (statuses[m.status] || 0) + 1;
      const run = await call(target, u.token, 'GET', `/api/runs/${a.runId}`);
      if (run.status === 200 && run.json.attempt > 1) resumed += 1;
    }
  }
  console.log(`${world.label}: seed ${SEED}, ${f.kills} kills survived, ${f.acked} acknowledged POSTs ` +
    `(ended ${JSON.stringify(statuses)}; ${resumed} runs resumed after a kill), ` +
    `${f.messagesChecked} assistant-message checks and ${f.toolCallsChecked} tool-call checks over all rounds, ` +
    `${f.sseEvents} SSE events, ${f.convexUpdates} Convex updates, ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.ok(resumed > 0, `${world.label}: no kill interrupted a run; the crash loop tested nothing`);
}

// ---------------------------------------------------------------- SQLite: one process

describe('crash loop: kill -9 x10 under load (SQLite)', () => {
  test('every restart: nothing stuck processing, no acknowledged message lost, no tool call twice, integrity ok', {
    timeout: 150_000, skip: !sqliteCli && 'needs the sqlite3 CLI for PRAGMA integrity_check (apt-get install sqlite3)',
  }, async () => {
    const t0 = Date.now();
    const rand = seededRandom(SEED);
    const world = newWorld('sqlite', rand);
    const mock = await startMock('crash-mock');
    const dataDir = makeTempDir('polaris-crash-');
    const dbPath = path.join(dataDir, 'polaris.db');
    const secret = randomSecret();
    const env = { ...providerEnv(mock), ...LOAD_ENV };
    let server = await startServer({ dataDir, dbPath, secret, env });
    const target = { url: server.url, port: server.port };
    try {
      await setUpUsers(world, [target], secret);
      for (const u of world.users) await openWatchers(world, u, target, target);
      startDrivers(world, () => () => target);
      for (let round = 1; round <= KILLS; round++) {
        const what = `sqlite kill ${round}`;
        await mock.script(roundSteps('S', round, USERS * 3));
        world.paused = false;
        // Let the load run, then kill at a random moment once something is streaming.
        await waitFor(async () => (await mock.stats()).requests > 0, { timeout: 10_000, what: `${what}: a run to reach the provider` });
        await sleep(200 + Math.floor(rand() * 2300));
        world.paused = true;
        await server.kill9();
        world.figures.kills += 1;
        integrityCheck(dbPath, what);
        await mock.reset();  // resumed runs get the mock's short default answers
        server = await startOnPort({ dataDir, dbPath, secret, env }, target.port);
        assert.equal(server.port, target.port);
        for (const u of world.users) {
          dropSse(world, u);
          await openWatchers(world, u, target, target);
        }
        const lists = await drain(world, target, what);
        await checkWorld(world, target, lists, what);
      }
      world.stopped = true;
      await Promise.all(world.drivers);
      await report(world, target, t0);
      await server.stop({ keepDir: true });  // a clean exit 0 after all that
      integrityCheck(dbPath, 'after the last clean stop');
    } finally {
      world.stopped = true;
      closeWatchers(world);
      if (server.alive()) await server.kill9();
      await mock.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

// ---------------------------------------------------------------- PostgreSQL: two processes

describe('crash loop: two processes on one PostgreSQL database, one killed x10', { skip: !PG && 'needs POLARIS_TEST_PG_URI' }, () => {
  test('every restart: nothing stuck processing, no acknowledged message lost, no tool call twice, both processes agree', { timeout: 170_000 }, async () => {
    const t0 = Date.now();
    const rand = seededRandom(SEED ^ 0x5bd1e995);
    const world = newWorld('postgres', rand);
    const p = await newPair('crash', LOAD_ENV);
    try {
      const procs = { A: { server: p.a, mock: p.ma, env: p.envA }, B: { server: p.b, mock: p.mb, env: p.envB } };
      const targets = {};
      for (const [name, x] of Object.entries(procs)) targets[name] = { url: x.server.url, port: x.server.port, name };
      await setUpUsers(world, [targets.A, targets.B], p.secret);
      // SSE on one process, Convex on the other (alternating by user).
      for (const u of world.users) {
        const [s, c] = u.i % 2 ? [targets.A, targets.B] : [targets.B, targets.A];
        await openWatchers(world, u, s, c);
      }
      const pick = seededRandom(SEED + 1);  // its own generator: the kill moments stay replayable
      startDrivers(world, () => () => (pick() < 0.5 ? targets.A : targets.B));
      for (let round = 1; round <= KILLS; round++) {
        await p.ma.script(roundSteps('A', round, USERS * 2));
        await p.mb.script(roundSteps('B', round, USERS * 2));
        const victim = rand() < 0.5 ? 'A' : 'B';
        const survivor = victim === 'A' ? 'B' : 'A';
        const what = `postgres kill ${round} (process ${victim})`;
        world.paused = false;
        await waitFor(async () => (await p.ma.stats()).requests + (await p.mb.stats()).requests > 0,
          { timeout: 10_000, what: `${what}: a run to reach a provider` });
        await sleep(200 + Math.floor(rand() * 2300));
        world.paused = true;
        const dead = procs[victim].server;
        await dead.kill9();
        world.figures.kills += 1;
        // The other process keeps serving meanwhile.
        expectOk(await request(targets[survivor], 'GET', '/healthz'), `${what}: the survivor answers`);
        await p.ma.reset();
        await p.mb.reset();
        const restarted = await startOnPort({ db: p.db, secret: p.secret, env: procs[victim].env, dataDir: dead.dataDir }, targets[victim].port);
        procs[victim].server = restarted;
        p.servers.push(restarted);
        for (const u of world.users) {
          dropSse(world, u);
          await openWatchers(world, u, u.i % 2 ? targets.A : targets.B, null);
        }
        const lists = await drain(world, targets[survivor], what);
        await checkWorld(world, targets[survivor], lists, what);
        // Both processes give the same lists.
        for (const u of world.users) {
          const other = expectOk(await call(targets[victim], u.token, 'GET', `/api/conversations/${u.conversationId}/messages`));
          assert.deepEqual(essence(other), essence(lists.get(u)), `${what}: both processes agree on user ${u.i}'s messages`);
        }
      }
      world.stopped = true;
      await Promise.all(world.drivers);
      await report(world, targets.A, t0);
    } finally {
      world.stopped = true;
      closeWatchers(world);
      await p.stop();
    }
  });
});


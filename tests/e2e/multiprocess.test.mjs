// Several `polaris serve` processes on one PostgreSQL database (POLARIS_TEST_PG_URI; the whole
// file is skipped without it). Each process gets its own data dir and its own mock provider, so
// the mock that receives a run's requests tells which process executes the run. Checks: a
// subscriber on one process watches a run stream on another (SSE, and Last-Event-ID carried
// from one process to the other); kill -9 of the executing process mid-run, then the other one
// finishes the run within lease + 5 s with no tool call repeated; 100 concurrent POSTs spread
// over both processes give exactly one 200; a cancel on one process stops a run executing on
// the other, provider connection included; Idempotency-Key holds across processes.
// The Convex-protocol variants are in tests/convex/multiprocess.test.mjs; the database restart
// under load in tests/pg_restart/ (it stops the shared cluster, so it runs alone).
import { describe, test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import {
  client, newUser, expectOk, expectStatus, expectSuccess,
} from './lib/server.mjs';
import {
  newChat, postMessage, getMessage, getMessages, waitFor, waitFinal, waitStatus, words,
  metricsText, metricValue,
} from './lib/mock.mjs';
import { newPair, LEASE_MS } from './lib/pair.mjs';
import { rebuildFromEvents, show } from './lib/sse.mjs';

const PG = process.env.POLARIS_TEST_PG_URI || '';
/** On both processes: room for 100 concurrent requests of one user (the default is 64 in flight). */
const PAIR_ENV = { POLARIS_MAX_REQUESTS_PER_USER: 128 };

// ---------------------------------------------------------------- SSE (node:http)

/** GET an SSE stream; resolves once the head is in: {status, events, until(pred), close()}. */
function openSse(server, urlPath, { token, lastEventId } = {}) {
  return new Promise((resolve, reject) => {
    const headers = { accept: 'text/event-stream', authorization: `Bearer ${token}` };
    if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
    const req = http.request(`${server.url}${urlPath}`, { method: 'GET', headers });
    const timer = setTimeout(() => req.destroy(new Error(`no response head for GET ${urlPath} within 15 s`)), 15_000);
    req.on('error', (e) => { clearTimeout(timer); reject(e); });
    req.on('response', (res) => {
      clearTimeout(timer);
      const s = { status: res.statusCode, events: [], ended: false, body: '' };
      let wake = null;
      const poke = () => { if (wake) { const w = wake; wake = null; w(); } };
      let buf = '';
      let cur = { data: [] };
      let has = false;
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        if (s.status !== 200) { s.body += chunk; return; }
        buf += chunk;
        for (;;) {
          const m = /\r\n|\n|\r/.exec(buf);
          if (!m || (m[0] === '\r' && m.index === buf.length - 1)) break;
          const line = buf.slice(0, m.index);
          buf = buf.slice(m.index + m[0].length);
          if (line === '') {
            if (has) {
              const ev = { id: cur.id, event: cur.event ?? 'message', data: cur.data.join('\n') };
              try { ev.json = JSON.parse(ev.data); } catch { ev.json = undefined; }
              s.events.push(ev);
            }
            cur = { data: [] };
            has = false;
            poke();
            continue;
          }
          if (line.startsWith(':')) continue;
          const i = line.indexOf(':');
          const field = i < 0 ? line : line.slice(0, i);
          let value = i < 0 ? '' : line.slice(i + 1);
          if (value.startsWith(' ')) value = value.slice(1);
          if (field === 'data') { cur.data.push(value); has = true; } else if (field === 'event') { cur.event = value; has = true; } else if (field === 'id') { cur.id = value; has = true; }
        }
      });
      const end = () => { s.ended = true; poke(); };
      res.on('end', end);
      res.on('close', end);
      res.on('error', end);
      s.until = async (pred, what = 'SSE events', timeout = 15_000) => {
        const deadline = Date.now() + timeout;
        for (;;) {
          const v = pred(s.events);
          if (v) return v;
          if (s.ended) throw new Error(`SSE stream ended while waiting for ${what}; events: ${show(s.events).slice(-2000)}`);
          const left = deadline - Date.now();
          if (left <= 0) throw new Error(`timed out after ${timeout} ms waiting for ${what}; events: ${show(s.events).slice(-2000)}`);
          await new Promise((r) => { const t = setTimeout(r, left); wake = () => { clearTimeout(t); r(); }; });
        }
      };
      s.close = () => { req.destroy(); res.destroy(); };
      resolve(s);
    });
    req.end();
  });
}

/** The distinct non-empty partial contents of a message seen before it was first completed. */
function partialsBeforeCompleted(events, messageId, finalText) {
  const partials = new Set();
  for (let i = 1; i <= events.length; i++) {
    const m = rebuildFromEvents(events.slice(0, i)).find((x) => x._id === messageId);
    if (!m) continue;
    if (m.status === 'completed') return { partials: [...partials], completed: true };
    if (m.status === 'processing' && m.content && m.content !== finalText) partials.add(m.content);
  }
  return { partials: [...partials], completed: false };
}

const completedIn = (events, messageId) => rebuildFromEvents(events).find((m) => m._id === messageId && m.status === 'completed');

/**
 * Asserts that the cancelled message no longer changes. First waits for the observable end of
 * the run on the process that executed it (its /metrics shows no run executing: the run's
 * coroutine is over and can write nothing more), then compares once; a check after a plain
 * sleep would pass on a slow machine whether or not the run had stopped.
 */
async function assertFrozen(c, conversationId, messageId, runner) {
  const first = await getMessage(c, conversationId, messageId);
  await waitFor(async () =>
    metricValue((await metricsText(runner)).text, 'polaris_runs{status="executing"}') === 0,
  { timeout: 10_000, what: 'the process that ran it to execute no run' });
  assert.deepEqual(await getMessage(c, conversationId, messageId), first, 'a cancelled message must not change afterwards');
  return first;
}

// ---------------------------------------------------------------- the tests

describe('several processes on one PostgreSQL database', { skip: !PG && 'needs POLARIS_TEST_PG_URI' }, () => {
  let p;
  before(async () => { p = await newPair('shared', PAIR_ENV); });
  after(async () => { if (p) await p.stop(); });
  beforeEach(async () => { if (p) await p.resetMocks(); });

  test('SSE: a subscriber on the other process sees the run stream (≥ 2 partial contents), then completed with the same content', { timeout: 60_000 }, async () => {
    const u = p.users();
    const chat = await newChat(u.A);
    const path = `/api/conversations/${chat.conversationId}/events`;
    // Subscribers on both processes before the run starts; the one on the process that does
    // not execute the run is the one under test.
    const sse = { A: await openSse(p.a, path, { token: u.token }), B: await openSse(p.b, path, { token: u.token }) };
    try {
      for (const s of Object.values(sse)) {
        assert.equal(s.status, 200, `SSE status: ${s.body}`);
        await s.until((evs) => evs.length >= 1, 'the snapshot');
        assert.equal(s.events[0].event, 'snapshot');
      }
      const text = words(30, 'live');
      await p.scriptBoth([{ type: 'text', text, chunks: 20, delayMs: 75 }]);
      const posted = await postMessage(u.A, chat.conversationId, 'stream slowly please');
      const who = await p.whoRuns();
      if (who.name !== 'A') console.log(`note: the run posted on A executes on ${who.name}; watching from ${who.otherName}`);
      const watcher = sse[who.otherName];
      await watcher.until((evs) => completedIn(evs, posted.messageId), `the completed message on process ${who.otherName}`, 20_000);
      const { partials, completed } = partialsBeforeCompleted(watcher.events, posted.messageId, text);
      assert.ok(completed);
      assert.ok(partials.length >= 2,
        `the subscriber on ${who.otherName} must see the content grow (≥ 2 partial contents) before "completed"; saw ${partials.length}: ${show(partials)}`);
      for (const part of partials) assert.ok(text.startsWith(part), `every partial content is a prefix of the answer: ${show(part)}`);
      for (let i = 1; i < watcher.events.length; i++) {
        assert.equal(BigInt(watcher.events[i].id), BigInt(watcher.events[i - 1].id) + 1n,
          `event ids go up by one: ${show(watcher.events.slice(i - 1, i + 1))}`);
      }
      const onRunner = await getMessage(client(who.runner, u.token), chat.conversationId, posted.messageId);
      assert.equal(onRunner.status, 'completed');
      assert.equal(onRunner.content, text);
      const seen = completedIn(watcher.events, posted.messageId);
      assert.equal(seen.content, onRunner.content, 'final content seen on the other process equals the runner\'s');
      const onOther = await getMessage(client(who.other, u.token), chat.conversationId, posted.messageId);
      assert.deepEqual(onOther, onRunner, 'both processes answer the same document');
    } finally {
      for (const s of Object.values(sse)) s.close();
    }
  });

  test('SSE: a Last-Event-ID from one process sent to the other resumes (exact events or a fresh snapshot) and converges', { timeout: 60_000 }, async () => {
    const u = p.users();
    const chat = await newChat(u.A);
    const path = `/api/conversations/${chat.conversationId}/events`;
    const text = words(30, 'hop');
    await p.scriptBoth([{ type: 'text', text, chunks: 20, delayMs: 100 }]);
    // First stream on A; it is closed mid-run and resumed on B.
    const first = await openSse(p.a, path, { token: u.token });
    let second;
    try {
      await first.until((evs) => evs.length >= 1, 'the snapshot on A');
      const posted = await postMessage(u.A, chat.conversationId, 'stream, then hop');
      await first.until((evs) => evs.filter((e) => e.event === 'delta').length >= 3, 'three deltas on A');
      first.close();
      const got = first.events.slice();
      const lastId = got.at(-1).id;
      second = await openSse(p.b, path, { token: u.token, lastEventId: lastId });
      assert.equal(second.status, 200, `SSE on B with Last-Event-ID: ${second.body}`);
      await second.until((evs) => completedIn(got.concat(evs), posted.messageId), 'the completed message on B', 20_000);
      const resumedExactly = second.events[0].event !== 'snapshot';
      console.log(`Last-Event-ID ${lastId} from A on B: ${resumedExactly ? 'exact events' : 'a fresh snapshot'}`);
      if (resumedExactly) {
        const all = got.concat(second.events);
        for (let i = 1; i < all.length; i++) {
          assert.equal(BigInt(all[i].id), BigInt(all[i - 1].id) + 1n,
            `without a snapshot, B must send exactly the events after ${lastId}: ${show(all.slice(i - 1, i + 1))}`);
        }
      }
      const final = completedIn(got.concat(second.events), posted.messageId);
      assert.equal(final.content, text, 'the content converges to the final content');
      const stored = await getMessages(u.B, chat.conversationId);
      assert.deepEqual(rebuildFromEvents(got.concat(second.events)), stored, 'the events rebuild GET …/messages');
    } finally {
      first.close();
      if (second) second.close();
    }
  });

  test('100 concurrent POSTs spread over A and B into one idle project: exactly one 200, 99 × 409', { timeout: 90_000 }, async () => {
    const u = p.users();
    const chat = await newChat(u.A);
    await p.scriptBoth([{ type: 'text', text: words(10), chunks: 5, delayMs: 100 }]);
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) =>
      (i % 2 ? u.B : u.A).post('/api/messages', { conversationId: chat.conversationId, message: `concurrent ${i}` }, { timeout: 30_000 })));
    const statuses = show(results.map((r, i) => `${i % 2 ? 'B' : 'A'}${r.status}`));
    const ok = results.filter((r) => r.status === 200);
    const conflict = results.filter((r) => r.status === 409);
    assert.equal(ok.length, 1, `exactly one winner over both processes; statuses: ${statuses}`);
    assert.equal(conflict.length, 99, `the rest 409; statuses: ${statuses}`);
    const winner = ok[0].json.messageId;
    for (const r of conflict) {
      expectStatus(r, 409, 'losing POST');
      assert.equal(r.json.error, 'A message is already being processed');
      assert.equal(r.json.messageId, winner, 'the 409 names the processing message');
    }
    assert.equal((await getMessages(u.B, chat.conversationId)).length, 2, 'one user + one assistant message');
    await waitStatus(u.A, chat.conversationId, winner, 'completed', 20_000);
    assert.equal((await p.runRequests()).length, 1, 'one provider request over both processes');
  });

  test('cancel on one process stops a run executing on the other, provider connection included', { timeout: 60_000 }, async () => {
    const u = p.users();
    const chat = await newChat(u.A);
    const text = words(120, 'c');
    // 80 chunks, one every 25 ms: the mock notices a closed connection at its next write.
    await p.scriptBoth([{ type: 'text', text, chunks: 80, delayMs: 25 }]);
    const posted = await postMessage(u.A, chat.conversationId, 'long answer please');
    const who = await p.whoRuns();
    const onRunner = client(who.runner, u.token);
    const onOther = client(who.other, u.token);
    await waitFor(async () => (await getMessage(onRunner, chat.conversationId, posted.messageId)).content.length > 0,
      { timeout: 3000, what: 'partial content' }).catch(() => {});
    const t0 = Date.now();
    const cancelRes = await onOther.req('DELETE', '/api/messages', { body: { messageId: posted.messageId } });
    const tAnswered = Date.now();
    expectSuccess(cancelRes, `DELETE /api/messages on ${who.otherName} (run on ${who.name})`);
    // The provider connection of the run on the other process is closed.
    let tAbort;
    const stats = await waitFor(async () => {
      const st = await who.runnerMock.stats();
      if (st.disconnects >= 1) { tAbort = Date.now(); return st; }
      return null;
    }, { timeout: 5000, interval: 5, what: `the provider of the run on ${who.name} to see its connection closed` });
    console.log(`cross-process cancel (${who.otherName} → run on ${who.name}): the provider saw the connection closed ` +
      `${tAbort - t0} ms after the cancel was sent (${tAbort - tAnswered} ms after its 200); polled every ~5 ms, ` +
      'the mock notices at its next write (every 25 ms)');
    assert.equal(stats.completed, 0, 'the provider stream was not read to the end');
    const m = await waitFor(async () => {
      const x = await getMessage(onRunner, chat.conversationId, posted.messageId);
      return x.status !== 'processing' ? x : null;
    }, { timeout: 5000, what: 'the message on the runner to leave processing' });
    assert.equal(m.status, 'cancelled', `cancelled, seen from the runner: ${show(m).slice(0, 800)}`);
    assert.ok(m.content === 'Message was cancelled.' || (m.content.length > 0 && text.startsWith(m.content)),
      `content is the streamed prefix or "Message was cancelled.": ${show(m.content)}`);
    assert.notEqual(m.content, text, 'the answer must not have been completed');
    const frozen = await assertFrozen(onOther, chat.conversationId, posted.messageId, who.runner);
    assert.deepEqual(await getMessage(onRunner, chat.conversationId, posted.messageId), frozen, 'both processes agree');
    assert.equal((await p.runRequests()).length, 1, 'no further provider request after the cancel');
    expectSuccess(await onRunner.req('DELETE', '/api/messages', { body: { messageId: posted.messageId } }), 'cancel again (idempotent)');
    // The project is free on both processes.
    await p.scriptBoth([{ type: 'text', text: 'Fresh answer.' }]);
    const next = await postMessage(onRunner, chat.conversationId, 'after cancel');
    assert.equal((await waitStatus(onOther, chat.conversationId, next.messageId, 'completed')).content, 'Fresh answer.');
  });

  test('Idempotency-Key: the same POST on A, then on B, gets the same answer; one message created', { timeout: 60_000 }, async () => {
    const u = p.users();
    const chat = await newChat(u.A);
    await p.scriptBoth([{ type: 'text', text: words(20), chunks: 10, delayMs: 100 }]);
    const headers = { 'Idempotency-Key': `mp-${newUser()}` };
    const body = { conversationId: chat.conversationId, message: 'do it once' };
    const a = expectOk(await u.A.post('/api/messages', body, { headers }), 'POST on A');
    const b = expectOk(await u.B.post('/api/messages', body, { headers }), 'the same POST on B while processing');
    assert.deepEqual(b, a, 'B answers what A answered');
    assert.equal((await getMessages(u.B, chat.conversationId)).length, 2, 'one user + one assistant message');
    await waitStatus(u.B, chat.conversationId, a.messageId, 'completed', 20_000);
    const c = expectOk(await u.B.post('/api/messages', body, { headers }), 'the same POST on B after completion');
    assert.deepEqual(c, a);
    const d = expectOk(await u.A.post('/api/messages', body, { headers }), 'and on A again');
    assert.deepEqual(d, a);
    assert.equal((await getMessages(u.A, chat.conversationId)).length, 2, 'no duplicate messages');
    assert.equal((await p.runRequests()).length, 1, 'one run only');
    // Another body with the key is refused on either process.
    const other = await u.B.post('/api/messages', { ...body, message: 'something else' }, { headers });
    expectStatus(other, 422, 'same key, other body, on B');
  });

  test('Idempotency-Key: 10 concurrent POSTs with one key spread over A and B all get the same ids', { timeout: 60_000 }, async () => {
    const u = p.users();
    const chat = await newChat(u.A);
    await p.scriptBoth([{ type: 'text', text: words(10), chunks: 5, delayMs: 100 }]);
    const headers = { 'Idempotency-Key': `mp-${newUser()}` };
    const results = await Promise.all(Array.from({ length: 10 }, (_, i) =>
      (i % 2 ? u.B : u.A).post('/api/messages', { conversationId: chat.conversationId, message: 'same' }, { headers, timeout: 30_000 })));
    const statuses = show(results.map((r, i) => `${i % 2 ? 'B' : 'A'}${r.status} ${r.text.slice(0, 120)}`));
    for (const r of results) assert.equal(r.status, 200, `every POST with the key gets the answer: ${statuses}`);
    assert.equal(new Set(results.map((r) => r.json.messageId)).size, 1, `one messageId: ${statuses}`);
    assert.equal(new Set(results.map((r) => r.json.runId)).size, 1, `one runId: ${statuses}`);
    await waitFinal(u.A, chat.conversationId, results[0].json.messageId);
    assert.equal((await getMessages(u.B, chat.conversationId)).length, 2);
    assert.equal((await p.runRequests()).length, 1, 'one run only');
  });
});

describe('concurrent file writes spread over the processes', { skip: !PG && 'needs POLARIS_TEST_PG_URI' }, () => {
  let p;
  before(async () => { p = await newPair('files', PAIR_ENV); });
  after(async () => { if (p) await p.stop(); });

  test('PUTs of files under one missing folder, and of one new path, spread over A and B: all 200, nothing twice', { timeout: 60_000 }, async () => {
    const u = p.users();
    const projectId = expectOk(await u.A.post('/api/projects', { name: 'race' }), 'create project').projectId;
    const put = (i, body) => (i % 2 ? u.B : u.A).put(`/api/projects/${projectId}/files/content`, body, { timeout: 30_000 });
    const who = (i) => (i % 2 ? 'B' : 'A');
    // 20 files in one folder chain that does not exist yet: every PUT creates the parents.
    let results = await Promise.all(Array.from({ length: 20 }, (_, i) => put(i, { path: `shared/deep/f${i}.txt`, content: `f${i}` })));
    let statuses = show(results.map((r, i) => `${who(i)}${r.status} ${r.status === 200 ? '' : r.text.slice(0, 120)}`));
    for (const r of results) assert.equal(r.status, 200, `every PUT creating missing parent folders succeeds: ${statuses}`);
    let files = expectOk(await u.B.get(`/api/projects/${projectId}/files`), 'list files');
    assert.equal(files.filter((f) => f.name === 'shared' && f.type === 'folder').length, 1, `one folder "shared": ${show(files)}`);
    assert.equal(files.filter((f) => f.name === 'deep' && f.type === 'folder').length, 1, `one folder "deep": ${show(files)}`);
    assert.equal(files.filter((f) => f.type === 'file').length, 20);
    // 10 PUTs of one new path: one file, the others replace its content (upsert).
    results = await Promise.all(Array.from({ length: 10 }, (_, i) => put(i, { path: 'same/one.txt', content: `v${i}` })));
    statuses = show(results.map((r, i) => `${who(i)}${r.status} ${r.status === 200 ? '' : r.text.slice(0, 120)}`));
    for (const r of results) assert.equal(r.status, 200, `every PUT of the same new path succeeds (upsert): ${statuses}`);
    assert.equal(new Set(results.map((r) => r.json.fileId)).size, 1, `one fileId: ${statuses}`);
    files = expectOk(await u.A.get(`/api/projects/${projectId}/files`), 'list files');
    assert.equal(files.filter((f) => f.name === 'one.txt').length, 1, `the file exists once: ${show(files)}`);
    const file = expectOk(await u.B.get(`/api/projects/${projectId}/files/content?path=same/one.txt`), 'file');
    assert.match(file.content, /^v\d$/);
  });
});

describe('kill -9 of the executing process', { skip: !PG && 'needs POLARIS_TEST_PG_URI' }, () => {
  const STEP1 = { type: 'tool_calls', text: 'Before the crash.', splitArgs: 3,
    calls: [{ id: 'call_once', name: 'write_file', arguments: { path: 'src/once.txt', content: 'written once' } }] };
  const SLOW2 = { type: 'text', text: words(20, 'slow'), chunks: 20, delayMs: 300 };
  const toolResults = (r) => (r.body.messages || []).filter((x) => x.role === 'tool' && x.tool_call_id === 'call_once').length;
  const toolAsks = (r) => (r.body.messages || []).filter((x) => x.role === 'assistant' && Array.isArray(x.tool_calls)
    && x.tool_calls.some((t) => t.id === 'call_once')).length;

  test('mid-run (during step 2, after the tool call): the other process finishes the run within lease + 5 s; the tool ran once', { timeout: 90_000 }, async () => {
    const p = await newPair('kill', PAIR_ENV);
    try {
      const u = p.users();
      const chat = await newChat(u.A);
      await p.scriptBoth([STEP1, SLOW2]);
      const posted = await postMessage(u.A, chat.conversationId, 'build it slowly');
      const who = await p.whoRuns();
      if (who.name !== 'A') console.log(`note: the run posted on A executes on ${who.name}; that one is killed`);
      await waitFor(async () => (await who.runnerMock.runRequests()).length >= 2,
        { timeout: 15_000, what: 'step 2 to reach the provider' });
      const onRunner = client(who.runner, u.token);
      const mid = await getMessage(onRunner, chat.conversationId, posted.messageId);
      assert.equal(mid.status, 'processing');
      assert.equal(mid.toolCalls?.[0]?.result?.success, true, `step 1's tool call is done: ${show(mid)}`);
      // Whatever the survivor asks gets this answer.
      await who.otherMock.script([{ type: 'text', text: 'Resumed answer.' }]);
      const killedAt = Date.now();
      await who.runner.kill9();
      const onOther = client(who.other, u.token);
      const budget = LEASE_MS + 5000;
      let last;
      const m = await waitFor(async () => {
        last = await getMessage(onOther, chat.conversationId, posted.messageId);
        return last.status !== 'processing' ? last : null;
      }, { timeout: Math.max(0, budget - (Date.now() - killedAt)), interval: 50,
        what: `process ${who.otherName} to finish the run within lease + 5 s (${budget} ms) of the kill` })
        .catch((e) => { e.message += `\nlast document: ${show(last).slice(0, 1500)}`; throw e; });
      console.log(`kill -9 of ${who.name}: ${who.otherName} finished the run ${Date.now() - killedAt} ms after the kill (lease ${LEASE_MS} ms)`);
      assert.equal(m.status, 'completed', `completed: ${show(m).slice(0, 1500)}`);
      assert.equal(m.content, 'Before the crash.\n\nResumed answer.', 'step 1 text, then the resumed step; nothing of the interrupted attempt');
      // The tool call is recorded once; the file exists once.
      assert.equal(m.toolCalls?.length, 1, `one tool call entry: ${show(m.toolCalls)}`);
      assert.equal(m.toolCalls[0].id, 'call_once');
      assert.equal(m.toolCalls[0].result?.success, true);
      const files = expectOk(await onOther.get(`/api/projects/${chat.projectId}/files`), 'files');
      assert.equal(files.filter((f) => f.name === 'once.txt').length, 1, `the file exists once: ${show(files)}`);
      const file = expectOk(await onOther.get(`/api/projects/${chat.projectId}/files/content?path=src/once.txt`), 'file');
      assert.equal(file.content, 'written once');
      assert.equal(file.fileId, m.toolCalls[0].result.fileId, 'the recorded fileId is the file');
      // The providers saw the tool's step once: one request without its result (step 1), and
      // every later request carries the call and its result exactly once.
      const runnerReqs = await who.runnerMock.runRequests();
      const otherReqs = await who.otherMock.runRequests();
      assert.equal(otherReqs.length, 1, `the survivor asked its provider once: ${otherReqs.length}`);
      const all = [...runnerReqs, ...otherReqs];
      assert.equal(all.filter((r) => toolResults(r) === 0).length, 1, 'step 1 (the tool call) was asked for once');
      for (const r of all.slice(1)) {
        assert.equal(toolAsks(r), 1, `the tool call appears once in later requests: ${show(r.body.messages).slice(0, 1500)}`);
        assert.equal(toolResults(r), 1, `its result appears once in later requests: ${show(r.body.messages).slice(0, 1500)}`);
      }
      const run = await waitFor(async () => {
        const r = expectOk(await onOther.get(`/api/runs/${posted.runId}`), 'GET run');
        return r.status === 'completed' ? r : null;
      }, { timeout: 10_000, what: 'the run to be completed' });
      assert.ok(run.attempt >= 2, `attempt ≥ 2 after the takeover: ${show(run)}`);
      for (const x of await getMessages(onOther, chat.conversationId)) assert.notEqual(x.status, 'processing');
      // The survivor takes new messages in the project.
      await who.otherMock.script([{ type: 'text', text: 'Next one.' }]);
      const next = await postMessage(onOther, chat.conversationId, 'and now?');
      assert.equal((await waitStatus(onOther, chat.conversationId, next.messageId, 'completed')).content, 'Next one.');
    } finally {
      await p.stop();
    }
  });
});

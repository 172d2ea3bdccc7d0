// Runs survive the process: kill -9 mid-stream and SIGTERM mid-run, then a restart on the same
// data dir and database resumes the run to completion without repeating finished tool calls.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { startServer, client, makeToken, newUser, expectOk } from './lib/server.mjs';
import {
  startMock, providerEnv, newChat, postMessage, getMessage, getMessages, waitFor, waitFinal, waitStatus, words,
} from './lib/mock.mjs';

let mock;
before(async () => { mock = await startMock('primary'); });
after(async () => { if (mock) await mock.stop(); });

/** A server on a fresh data dir, plus a restart() that reuses its dir, db and secret. */
async function freshServer() {
  const env = providerEnv(mock);
  const first = await startServer({ env });
  const h = {
    server: first,
    env,
    dataDir: first.dataDir,
    secret: first.secret,
    async restart() {
      h.server = await startServer({ env, dataDir: h.dataDir, secret: h.secret });
      return h.server;
    },
    async cleanup() {
      if (h.server && !h.server.stopped) await h.server.stop({ keepDir: true }).catch(() => {});
      fs.rmSync(h.dataDir, { recursive: true, force: true });
    },
  };
  return h;
}

const STEP1 = { type: 'tool_calls', text: 'Before the crash.', splitArgs: 3,
  calls: [{ id: 'call_once', name: 'write_file', arguments: { path: 'src/once.txt', content: 'written once' } }] };
const SLOW2 = { type: 'text', text: words(20, 'slow'), chunks: 20, delayMs: 300 };

/** Posts a two-step run and waits until step 1's tool call is done and step 2 is streaming. */
async function startTwoStepRun(h, user) {
  const c = client(h.server, makeToken(user, h.secret));
  const chat = await newChat(c);
  await mock.script([STEP1, SLOW2]);
  const posted = await postMessage(c, chat.conversationId, 'build it slowly');
  await waitFor(async () => (await mock.runRequests()).length >= 2, { timeout: 15_000, what: 'step 2 to reach the provider' });
  const m = await getMessage(c, chat.conversationId, posted.messageId);
  assert.equal(m.status, 'processing');
  assert.equal(m.toolCalls?.[0]?.result?.success, true, `step 1 tool call done: ${JSON.stringify(m)}`);
  return { ...chat, ...posted };
}

async function checkResumed(h, user, run, { expectAttempt2 = true } = {}) {
  const c = client(h.server, makeToken(user, h.secret));
  const m = await waitStatus(c, run.conversationId, run.messageId, 'completed', 20_000);
  // Finished tool calls are not repeated, entries not duplicated.
  assert.equal(m.toolCalls?.length, 1, `one tool call entry: ${JSON.stringify(m.toolCalls)}`);
  assert.equal(m.toolCalls[0].id, 'call_once');
  assert.equal(m.toolCalls[0].result?.success, true);
  const files = expectOk(await c.get(`/api/projects/${run.projectId}/files`), 'files');
  const named = files.filter((f) => f.name === 'once.txt');
  assert.equal(named.length, 1, `the file exists once: ${JSON.stringify(files)}`);
  const file = expectOk(await c.get(`/api/projects/${run.projectId}/files/content?path=src/once.txt`), 'file');
  assert.equal(file.content, 'written once');
  assert.equal(file.fileId, m.toolCalls[0].result.fileId, 'the recorded fileId is the file');
  // The interrupted step was asked again with the finished tool call in the transcript (once).
  const reqs = await mock.runRequests();
  assert.ok(reqs.length >= 1, 'the resumed run asked the provider');
  const last = reqs.at(-1).body.messages;
  assert.equal(last.filter((x) => x.role === 'tool' && x.tool_call_id === 'call_once').length, 1,
    `the tool result appears once in the resumed request: ${JSON.stringify(last).slice(0, 2000)}`);
  // Content: step 1, then the resumed step's text; no text of the interrupted attempt.
  assert.equal(m.content, 'Before the crash.\n\nResumed answer.');
  const runDoc = await waitFor(async () => {
    const r = expectOk(await c.get(`/api/runs/${run.runId}`), 'GET run');
    return r.status === 'completed' ? r : null;
  }, { timeout: 10_000, what: 'run completed' });
  if (expectAttempt2) assert.ok(runDoc.attempt >= 2, `attempt ≥ 2 after a restart, got ${JSON.stringify(runDoc)}`);
  // No message is left processing.
  for (const x of await getMessages(c, run.conversationId)) assert.notEqual(x.status, 'processing');
  return m;
}

describe('crash recovery', () => {
  test('kill -9 mid-stream, restart: the message completes; the tool call is not repeated', async () => {
    const h = await freshServer();
    try {
      const user = newUser();
      const run = await startTwoStepRun(h, user);
      await h.server.kill9();
      // Whatever the resumed step asks gets this answer.
      await mock.script([{ type: 'text', text: 'Resumed answer.' }]);
      await h.restart();
      await checkResumed(h, user, run);
    } finally {
      await h.cleanup();
    }
  });

  test('SIGTERM mid-run: exit 0 within 10 s, message not failed; restart completes it', async () => {
    const h = await freshServer();
    try {
      const user = newUser();
      const run = await startTwoStepRun(h, user);
      await h.server.stop({ keepDir: true }); // asserts exit code 0 within 10 s
      await mock.script([{ type: 'text', text: 'Resumed answer.' }]);
      await h.restart();
      // A clean stop may resume the same attempt; only the outcome is specified.
      await checkResumed(h, user, run, { expectAttempt2: false });
    } finally {
      await h.cleanup();
    }
  });

  test('kill -9 twice in a row, then restart: still completes exactly once', async () => {
    const h = await freshServer();
    try {
      const user = newUser();
      const run = await startTwoStepRun(h, user);
      await h.server.kill9();
      // The first restart gets a slow step again and is killed as well.
      await mock.script([SLOW2]);
      await h.restart();
      await waitFor(async () => (await mock.runRequests()).length >= 1, { timeout: 20_000, what: 'resumed step to reach the provider' });
      await h.server.kill9();
      await mock.script([{ type: 'text', text: 'Resumed answer.' }]);
      await h.restart();
      await checkResumed(h, user, run);
      const c = client(h.server, makeToken(user, h.secret));
      const r = expectOk(await c.get(`/api/runs/${run.runId}`));
      assert.ok(r.attempt >= 3, `attempt ≥ 3 after two crashes: ${JSON.stringify(r)}`);
    } finally {
      await h.cleanup();
    }
  });

  test('after a restart the project accepts new messages', async () => {
    const h = await freshServer();
    try {
      const user = newUser();
      const run = await startTwoStepRun(h, user);
      await h.server.kill9();
      await mock.script([{ type: 'text', text: 'Resumed answer.' }]);
      await h.restart();
      const c = client(h.server, makeToken(user, h.secret));
      await waitFinal(c, run.conversationId, run.messageId, 20_000);
      await mock.script([{ type: 'text', text: 'Next one.' }]);
      const next = await postMessage(c, run.conversationId, 'and now?');
      const m = await waitStatus(c, run.conversationId, next.messageId, 'completed');
      assert.equal(m.content, 'Next one.');
    } finally {
      await h.cleanup();
    }
  });
});

// Every provider fault, on the first step or on a later step (after a successful write_file
// tool call), with and without a fallback provider: 9 faults x 2 x 2 = 36 cases. In every case
// the message ends `completed` or `failed` with a non-empty error, never stays `processing`, holds
// no duplicated text and no duplicated tool call, and the tool of the first step ran exactly
// once. Where the outcome is determined it is asserted exactly: with a fallback every provider
// fault completes with the fallback's text; without one it fails, keeping the text of the
// finished steps (and, for faults that streamed some text first, a prefix of that text once);
// a tool call with broken JSON arguments is answered to the model with an error result and the
// run goes on either way.
//
// Cases run in parallel on independent lanes. A lane is one primary mock (behind a TCP proxy
// that can refuse connections), one secondary mock, a server with both providers and a server
// with the primary only; a lane runs one case at a time, so each mock's script belongs to one
// run. Provider timeouts are small so the stall cases stay fast.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, client, makeToken, newUser, expectOk, sleep } from '../e2e/lib/server.mjs';
import { startMock, providerEnv, newChat, postMessage, getMessages, waitFinal } from '../e2e/lib/mock.mjs';
import { startProxy, compose, assertUniqueToolCalls, projectFiles } from './lib/faults.mjs';

const LANES = 3;
const PRIMARY_MODEL = 'primary-model';
const SECONDARY_MODEL = 'secondary-model';
const FALLBACK_TEXT = 'Answer from the fallback provider.';
const AFTER_BROKEN = 'After the broken call.';
// Streamed by the faults that send some text before failing ("Partial" once, then words).
const FAULT_TEXT = 'Partial f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 f12 f13';
const STEP1_TEXT = 'Step one.';
const IDLE_MS = 600;

const SERVER_ENV = {
  POLARIS_PROVIDER_CONNECT_TIMEOUT_MS: 1000,
  POLARIS_PROVIDER_FIRST_BYTE_TIMEOUT_MS: 1500,
  POLARIS_PROVIDER_IDLE_TIMEOUT_MS: IDLE_MS,
  // No circuit breaker between cases: each case must meet its own fault on the primary.
  POLARIS_BREAKER_COOLDOWN_MS: 1,
  POLARIS_MESSAGES_PER_MINUTE: 1000,
};

/**
 * fault name -> what the primary is scripted with for the faulted step, whether it streams some
 * text before failing (`partial`), and what the error of a failed message must say.
 */
const FAULTS = {
  http500: { steps: [{ type: 'fault', fault: 'http500', message: 'mock says 500' }], error: /HTTP 500/ },
  http429_retry_after: { steps: [{ type: 'fault', fault: 'http429', retryAfter: 1 }], error: /HTTP 429/ },
  connection_refused: { steps: [], refuse: true, error: /connect|refused/i },
  drop_before_first_byte: { steps: [{ type: 'fault', fault: 'drop' }], error: /./ },
  stall_idle_timeout: { steps: [{ type: 'fault', fault: 'stall', stallMs: 5000 }], error: /stall|idle|timeout/i },
  drop_mid_stream: { steps: [{ type: 'fault', fault: 'drop_mid_stream', text: FAULT_TEXT }], partial: 'maybe', error: /./ },
  malformed_sse: { steps: [{ type: 'fault', fault: 'malformed', text: FAULT_TEXT }], partial: 'yes', error: /./ },
  error_chunk: { steps: [{ type: 'fault', fault: 'error_chunk', text: FAULT_TEXT }], partial: 'yes', error: /Upstream error|error/i },
  broken_tool_args: { brokenArgs: true },
};

// ---------------------------------------------------------------- lanes

const lanes = [];
const free = [];
const waiters = [];
async function acquireLane() {
  if (free.length) return free.pop();
  return new Promise((resolve) => waiters.push(resolve));
}
function releaseLane(lane) {
  const w = waiters.shift();
  if (w) w(lane); else free.push(lane);
}

async function startLane(i) {
  const lane = { i, mocks: [], servers: [] };
  lane.primary = await startMock(`lane${i}-primary`); lane.mocks.push(lane.primary);
  lane.secondary = await startMock(`lane${i}-secondary`); lane.mocks.push(lane.secondary);
  lane.proxy = await startProxy(Number(new URL(lane.primary.base).port));
  const viaProxy = { v1: lane.proxy.v1() };
  const models = { primaryModel: PRIMARY_MODEL, secondaryModel: SECONDARY_MODEL };
  lane.withFallback = await startServer({ env: { ...providerEnv(viaProxy, lane.secondary, models), ...SERVER_ENV } });
  lane.servers.push(lane.withFallback);
  lane.primaryOnly = await startServer({ env: { ...providerEnv(viaProxy, null, models), ...SERVER_ENV } });
  lane.servers.push(lane.primaryOnly);
  return lane;
}

before(async () => {
  const started = await Promise.allSettled(Array.from({ length: LANES }, (_, i) => startLane(i)));
  for (const s of started) if (s.status === 'fulfilled') { lanes.push(s.value); free.push(s.value); }
  const failed = started.find((s) => s.status === 'rejected');
  if (failed) throw failed.reason;
});

after(async () => {
  const errors = [];
  for (const lane of lanes) {
    // stop() asserts a clean exit 0: every server survived its faults.
    for (const s of lane.servers) await s.stop().catch((e) => errors.push(e));
    lane.proxy.close();
    for (const m of lane.mocks) await m.stop();
  }
  if (errors.length) throw errors[0];
});

// ---------------------------------------------------------------- one case

let caseCounter = 0;

async function runCase(lane, faultName, when, fallback) {
  const spec = FAULTS[faultName];
  const tag = `${faultName}_${when}_${fallback ? 'fb' : 'nofb'}_${++caseCounter}`;
  const server = fallback ? lane.withFallback : lane.primaryOnly;
  const c = client(server, makeToken(newUser('fm'), server.secret));
  const { projectId, conversationId } = await newChat(c, { title: tag });  // titled: no title request

  const later = when === 'later';
  const step1Id = `step1_${tag}`;
  const brokenId = `broken_${tag}`;
  const step1 = later
    ? [{ type: 'tool_calls', text: STEP1_TEXT, calls: [{ id: step1Id, name: 'write_file', arguments: { path: 'step1.txt', content: `one ${tag}` } }] }]
    : [];
  const faulted = spec.brokenArgs
    ? [{ type: 'tool_calls', calls: [{ id: brokenId, name: 'write_file', arguments: '{"path": "broken.txt", "content": "never' }] },
      { type: 'text', text: AFTER_BROKEN }]
    : spec.steps;
  await lane.primary.script([...step1, ...faulted]);
  await lane.secondary.script(fallback ? [{ type: 'text', text: FALLBACK_TEXT }] : []);
  if (spec.refuse) lane.proxy.refuseAfter(later ? 1 : 0);

  let m;
  try {
    const { messageId, runId } = await postMessage(c, conversationId, `fault case ${tag}`);
    m = await waitFinal(c, conversationId, messageId, 20_000);
    assert.equal(m.triggerRunId, runId);
  } finally {
    await lane.proxy.reopen();
  }
  const what = `${tag}: ${JSON.stringify(m).slice(0, 1500)}`;

  // ---- never processing; completed, or failed with a sentence
  assert.ok(['completed', 'failed'].includes(m.status), `final status: ${what}`);
  if (m.status === 'failed') {
    assert.equal(typeof m.error, 'string', what);
    assert.ok(m.error.trim().length > 0, `a failed message needs a non-empty error: ${what}`);
  }
  const all = await getMessages(c, conversationId);
  assert.deepEqual(all.map((x) => x.role), ['user', 'assistant'], `one user and one assistant message: ${what}`);
  assert.ok(all.every((x) => x.status !== 'processing'), what);

  // ---- tool calls: each id once, the step-1 call (when scripted) first and done
  const ids = assertUniqueToolCalls(all, tag);
  const calls = m.toolCalls || [];
  const expectedIds = [...(later ? [step1Id] : []), ...(spec.brokenArgs ? [brokenId] : [])];
  assert.deepEqual(ids, expectedIds, `tool calls: ${what}`);
  if (later) {
    assert.equal(calls[0].name, 'write_file');
    assert.equal(calls[0].result?.success, true, `step-1 tool call succeeded: ${what}`);
  }

  // ---- files: step1.txt exactly once (written by the one call), nothing else
  const { files, byPath } = await projectFiles(c, projectId);
  assert.deepEqual([...byPath.keys()].sort(), later ? ['step1.txt'] : [], `project files: ${JSON.stringify(files)}`);
  if (later) {
    const f = expectOk(await c.get(`/api/projects/${projectId}/files/content?path=step1.txt`));
    assert.equal(f.content, `one ${tag}`);
    assert.equal(f.fileId, calls[0].result.fileId, 'the recorded fileId is the file');
  }

  // ---- the provider requests: the tool result went back to the model exactly once
  const primaryReqs = await lane.primary.runRequests();
  const secondaryReqs = await lane.secondary.runRequests();
  for (const r of [...primaryReqs, ...secondaryReqs]) {
    const results = r.body.messages.filter((x) => x.role === 'tool' && x.tool_call_id === step1Id);
    assert.ok(results.length <= 1, `${tag}: the step-1 result appears ${results.length} times in one request`);
  }

  // ---- the outcome, where it is determined
  const prefix = later ? STEP1_TEXT : '';
  if (spec.brokenArgs) {
    // Not a provider fault: the model gets an error result and the run goes on, fallback or not.
    assert.equal(m.status, 'completed', what);
    assert.equal(m.content, compose(prefix, AFTER_BROKEN), what);
    assert.equal(m.model, PRIMARY_MODEL);
    const broken = calls.at(-1);
    assert.equal(broken.result?.success, false, `the broken call is answered with an error: ${what}`);
    assert.match(broken.result.error, /JSON/i, what);
    assert.equal(primaryReqs.length, later ? 3 : 2);
    assert.equal(secondaryReqs.length, 0, 'no fallback for a tool-argument error');
    const last = primaryReqs.at(-1).body.messages;
    assert.equal(last.filter((x) => x.role === 'tool' && x.tool_call_id === brokenId).length, 1,
      'the error result goes back to the model once');
  } else if (fallback) {
    assert.equal(m.status, 'completed', what);
    assert.equal(m.content, compose(prefix, FALLBACK_TEXT), `no text of the failed attempt, nothing twice: ${what}`);
    assert.equal(m.model, SECONDARY_MODEL);
    assert.equal(m.error, undefined);
    assert.equal(secondaryReqs.length, 1, 'the fallback was asked once');
    assert.equal(primaryReqs.length, (later ? 1 : 0) + (spec.refuse ? 0 : 1), 'the primary was asked once per step');
    if (later) {
      assert.equal(secondaryReqs[0].body.messages.filter((x) => x.role === 'tool' && x.tool_call_id === step1Id).length, 1,
        'the fallback gets the step-1 result once');
    }
  } else {
    assert.equal(m.status, 'failed', what);
    assert.match(m.error, spec.error, what);
    assert.ok(m.content.startsWith(prefix), what);
    const rest = m.content.slice(prefix.length).replace(/^\n\n/, '');
    if (spec.partial) {
      // The text streamed before the fault is kept (once): a prefix of what the mock sent.
      assert.ok(FAULT_TEXT.startsWith(rest), `kept text is a prefix of the streamed text: ${what}`);
      if (spec.partial === 'yes') assert.ok(rest.length > 0, `the streamed text is kept: ${what}`);
      assert.ok((m.content.match(/Partial/g) || []).length <= 1, `partial text once: ${what}`);
    } else {
      assert.equal(m.content, prefix, what);
    }
    assert.equal(primaryReqs.length, (later ? 1 : 0) + (spec.refuse ? 0 : 1), 'the primary was asked once per step');
    assert.equal(secondaryReqs.length, 0);
  }
  // The run agrees with its message.
  const run = expectOk(await c.get(`/api/runs/${m.triggerRunId}`), 'GET run');
  assert.equal(run.status, m.status, `run status: ${JSON.stringify(run)}`);

  // A Retry-After opened the primary's breaker on this server for 1 s: let it pass before the
  // lane's next case, which must meet its own fault on the primary.
  if (faultName.startsWith('http429') && fallback) await sleep(1100);
}

// ---------------------------------------------------------------- the matrix

describe('provider fault matrix', { concurrency: LANES }, () => {
  for (const faultName of Object.keys(FAULTS)) {
    for (const when of ['first', 'later']) {
      for (const fallback of [true, false]) {
        const name = `${faultName} | on the ${when === 'first' ? 'first step' : 'second step, after a write_file call'} | ${fallback ? 'with fallback' : 'no fallback'}`;
        test(name, { timeout: 60_000 }, async () => {
          const lane = await acquireLane();
          try {
            await runCase(lane, faultName, when, fallback);
          } finally {
            releaseLane(lane);
          }
        });
      }
    }
  }
});

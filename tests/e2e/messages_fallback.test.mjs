// Provider fallback: every fault of the primary (OpenRouter slot) moves the step to the
// secondary (Cerebras slot); request errors (400/401) fail the message instead; both failing
// fails it; no provider at all fails it with the documented sentence. Reasoning stays out of content.
import { describe, test, beforeEach, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, client, makeToken, newUser } from './lib/server.mjs';
import {
  useMockedServer, startMock, providerEnv, newChat, postMessage, waitFinal, waitStatus,
  metricsText, metricValue,
} from './lib/mock.mjs';

const PRIMARY_MODEL = 'primary-model';
const SECONDARY_MODEL = 'secondary-model';
const PARTIAL = 'PRIMARYPARTIAL alpha beta gamma delta epsilon zeta eta theta iota kappa lambda';

const ctx = useMockedServer({
  mocks: 2,
  primaryModel: PRIMARY_MODEL,
  secondaryModel: SECONDARY_MODEL,
  env: {
    POLARIS_PROVIDER_IDLE_TIMEOUT_MS: 1000,
    POLARIS_PROVIDER_FIRST_BYTE_TIMEOUT_MS: 1500,
    POLARIS_PROVIDER_CONNECT_TIMEOUT_MS: 2000,
    // Effectively no circuit breaker: every test must exercise its own fault on the primary.
    POLARIS_BREAKER_COOLDOWN_MS: 1,
  },
});
beforeEach(async () => { await ctx.resetMocks(); });

describe('fallback to the secondary', () => {
  const faults = [
    ['http500', {}],
    ['http429', { retryAfter: 0 }],
    ['drop', {}],
    ['stall', {}],
    ['drop_mid_stream', { text: PARTIAL }],
    ['malformed', { text: PARTIAL }],
    ['error_chunk', { text: PARTIAL }],
    ['empty_200', {}],
    ['no_finish', { text: PARTIAL }],
  ];
  for (const [fault, extra] of faults) {
    test(`primary ${fault} → completed with the secondary's answer and model`, async () => {
      const c = ctx.client();
      const { conversationId } = await newChat(c);
      await ctx.primary.script([{ type: 'fault', fault, ...extra }]);
      await ctx.secondary.script([{ type: 'text', text: 'Answer from the secondary.' }]);
      const { messageId } = await postMessage(c, conversationId, `please survive ${fault}`);
      const m = await waitStatus(c, conversationId, messageId, 'completed', 30_000);
      assert.equal(m.content, 'Answer from the secondary.', `content: ${JSON.stringify(m.content)}`);
      assert.ok(!m.content.includes('PRIMARYPARTIAL'), 'no text from the failed attempt');
      assert.equal(m.model, SECONDARY_MODEL);
      assert.equal(m.error, undefined);
      assert.equal((await ctx.primary.runRequests()).length, 1, 'primary tried once');
      assert.equal((await ctx.secondary.runRequests()).length, 1, 'secondary tried once');
      const run = (await c.get(`/api/runs/${m.triggerRunId}`)).json;
      assert.equal(run?.provider, 'cerebras', JSON.stringify(run));
      assert.equal(run?.model, SECONDARY_MODEL);
    });
  }

  test('a slow but steady stream, longer in total than the idle timeout, is not a stall', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    // 15 chunks, one every 250 ms: ~3.75 s in total, never 1 s (the idle timeout) without data.
    const text = Array.from({ length: 30 }, (_, i) => `steady${i}`).join(' ');
    await ctx.primary.script([{ type: 'text', text, chunks: 15, delayMs: 250 }]);
    await ctx.secondary.script([{ type: 'text', text: 'Secondary took over.' }]);
    const { messageId } = await postMessage(c, conversationId, 'slow and steady');
    const m = await waitStatus(c, conversationId, messageId, 'completed', 30_000);
    assert.equal(m.content, text, 'the primary\'s answer, not a fallback');
    assert.equal(m.model, PRIMARY_MODEL);
    assert.equal((await ctx.secondary.runRequests()).length, 0, 'no fallback');
  });

  test('no response headers within the first-byte timeout → secondary', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'text', text: 'too late', firstByteDelayMs: 8000 }]);
    await ctx.secondary.script([{ type: 'text', text: 'On time.' }]);
    const { messageId } = await postMessage(c, conversationId, 'hurry');
    const m = await waitStatus(c, conversationId, messageId, 'completed', 30_000);
    assert.equal(m.content, 'On time.');
    assert.equal(m.model, SECONDARY_MODEL);
  });

  test('a failure in step 2 keeps step 1 (text and tool call); only step 2 moves', async () => {
    const c = ctx.client();
    const { projectId, conversationId } = await newChat(c);
    await ctx.primary.script([
      { type: 'tool_calls', text: 'Step one.', calls: [{ id: 'c1', name: 'write_file', arguments: { path: 'x.txt', content: 'x' } }] },
      { type: 'fault', fault: 'error_chunk', text: PARTIAL },
    ]);
    await ctx.secondary.script([{ type: 'text', text: 'Step two.' }]);
    const { messageId } = await postMessage(c, conversationId, 'two steps');
    const m = await waitStatus(c, conversationId, messageId, 'completed', 30_000);
    assert.equal(m.content, 'Step one.\n\nStep two.');
    assert.equal(m.toolCalls?.length, 1);
    assert.equal(m.toolCalls[0].result?.success, true);
    assert.equal(m.model, SECONDARY_MODEL, 'model names the model of the last step');
    const reqs = await ctx.secondary.runRequests();
    assert.equal(reqs.length, 1);
    assert.ok(reqs[0].body.messages.some((x) => x.role === 'tool' && x.tool_call_id === 'c1'),
      'the secondary gets the whole transcript so far');
    assert.equal((await c.get(`/api/projects/${projectId}/files/content?path=x.txt`)).status, 200);
  });

  test('the Cerebras request: its model and key, a tight max_completion_tokens, none of the rejected params', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'fault', fault: 'http500' }]);
    const { messageId } = await postMessage(c, conversationId, 'inspect the fallback request');
    await waitStatus(c, conversationId, messageId, 'completed');
    const [req] = await ctx.secondary.runRequests();
    assert.ok(req, 'secondary asked');
    assert.equal(req.authorization, 'Bearer k2');
    assert.equal(req.body.model, SECONDARY_MODEL);
    assert.equal(req.body.stream, true);
    assert.ok(Array.isArray(req.body.tools) && req.body.tools.length > 0, 'tools offered');
    assert.equal(typeof req.body.max_completion_tokens, 'number', `max_completion_tokens sent: ${JSON.stringify(req.body).slice(0, 400)}`);
    assert.ok(req.body.max_completion_tokens > 0 && req.body.max_completion_tokens <= 2000);
    for (const p of ['parallel_tool_calls', 'frequency_penalty', 'presence_penalty', 'logit_bias', 'service_tier']) {
      assert.equal(p in req.body, false, `must not send ${p}`);
    }
  });

  test('metrics count the fallback', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'fault', fault: 'http500' }]);
    const { messageId } = await postMessage(c, conversationId, 'count me');
    await waitStatus(c, conversationId, messageId, 'completed');
    const { text } = await metricsText(ctx.server);
    const fallbacks = text.split('\n').filter((l) => l.startsWith('polaris_provider_fallbacks_total'));
    assert.ok(fallbacks.length > 0, `polaris_provider_fallbacks_total present:\n${text}`);
    assert.ok(fallbacks.some((l) => Number(l.split(' ').pop()) >= 1), `a fallback counted: ${fallbacks}`);
    assert.ok(metricValue(text, 'polaris_provider_requests_total{provider="openrouter"}') >= 1, text);
    assert.ok(metricValue(text, 'polaris_provider_requests_total{provider="cerebras"}') >= 1, text);
  });
});

describe('no silent fallback, and total failure', () => {
  for (const [fault, code] of [['http400', 400], ['http401', 401]]) {
    test(`primary ${fault} → failed with an error naming HTTP ${code}; secondary not asked`, async () => {
      const c = ctx.client();
      const { conversationId } = await newChat(c);
      await ctx.primary.script([{ type: 'fault', fault }]);
      await ctx.secondary.script([{ type: 'text', text: 'should not be used' }]);
      const { messageId } = await postMessage(c, conversationId, `request error ${fault}`);
      const m = await waitStatus(c, conversationId, messageId, 'failed', 30_000);
      assert.equal(typeof m.error, 'string');
      assert.match(m.error, new RegExp(String(code)), `error should mention ${code}: ${m.error}`);
      assert.ok(!m.content.includes('should not be used'));
      assert.equal((await ctx.secondary.runRequests()).length, 0, 'no fallback on a request error');
      // The project is not locked.
      const next = await postMessage(c, conversationId, 'after the failure');
      await waitFinal(c, conversationId, next.messageId);
    });
  }

  test('both providers failing → failed with a non-empty error; the project is usable afterwards', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'fault', fault: 'http500' }]);
    await ctx.secondary.script([{ type: 'fault', fault: 'http500' }]);
    const { messageId } = await postMessage(c, conversationId, 'doomed');
    const m = await waitStatus(c, conversationId, messageId, 'failed', 30_000);
    assert.equal(typeof m.error, 'string');
    assert.ok(m.error.trim().length > 0);
    const next = await postMessage(c, conversationId, 'try again');
    const n = await waitStatus(c, conversationId, next.messageId, 'completed');
    assert.equal(n.model, PRIMARY_MODEL);
  });

  test('both failing in step 2: step 1 text and tool call are kept', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([
      { type: 'tool_calls', text: 'Step one.', calls: [{ id: 'k1', name: 'write_file', arguments: { path: 'k.txt', content: 'k' } }] },
      { type: 'fault', fault: 'http500' },
    ]);
    await ctx.secondary.script([{ type: 'fault', fault: 'drop' }]);
    const { messageId } = await postMessage(c, conversationId, 'half way');
    const m = await waitStatus(c, conversationId, messageId, 'failed', 30_000);
    assert.ok(m.content.startsWith('Step one.'), `content kept: ${JSON.stringify(m.content)}`);
    assert.equal(m.toolCalls?.length, 1);
    assert.ok(m.error && m.error.trim());
  });
});

describe('reasoning', () => {
  test('reasoning deltas never appear in content (primary and secondary)', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'text', text: 'Visible answer.', reasoning: 'SECRET-THOUGHTS of the model', chunks: 4 }]);
    const { messageId } = await postMessage(c, conversationId, 'think');
    const m = await waitStatus(c, conversationId, messageId, 'completed');
    assert.equal(m.content, 'Visible answer.');

    await ctx.primary.script([{ type: 'fault', fault: 'http500' }]);
    await ctx.secondary.script([{ type: 'text', text: 'GLM answer.', reasoning: 'SECRET-GLM-REASONING' }]);
    const second = await postMessage(c, conversationId, 'think again');
    const n = await waitStatus(c, conversationId, second.messageId, 'completed');
    assert.equal(n.content, 'GLM answer.');
    assert.ok(!JSON.stringify(n).includes('SECRET'), JSON.stringify(n));
  });
});

describe('connection refused on the primary', () => {
  const own = {};
  before(async () => {
    own.secondary = await startMock('secondary');
    own.server = await startServer({
      env: {
        ...providerEnv(null, own.secondary, { secondaryModel: SECONDARY_MODEL }),
        OPENROUTER_API_KEY: 'k1',
        OPENROUTER_BASE_URL: 'http://127.0.0.1:1/v1',
        POLARIS_PROVIDER_CONNECT_TIMEOUT_MS: 2000,
      },
    });
  });
  after(async () => {
    try { if (own.server) await own.server.stop(); } finally { if (own.secondary) await own.secondary.stop(); }
  });
  test('the step goes to the secondary', async () => {
    const c = client(own.server, makeToken(newUser(), own.server.secret));
    const { conversationId } = await newChat(c);
    await own.secondary.script([{ type: 'text', text: 'Secondary here.' }]);
    const { messageId } = await postMessage(c, conversationId, 'hello');
    const m = await waitStatus(c, conversationId, messageId, 'completed', 30_000);
    assert.equal(m.content, 'Secondary here.');
    assert.equal(m.model, SECONDARY_MODEL);
  });
});

describe('circuit breaker (default cool-down)', () => {
  const br = useMockedServer({ mocks: 2, secondaryModel: SECONDARY_MODEL });
  test('a primary that keeps failing is skipped for a while', async () => {
    const c = br.client();
    await br.primary.script([{ type: 'fault', fault: 'http500', sticky: true }]);
    const n = 6;
    for (let i = 0; i < n; i++) {
      const { conversationId } = await newChat(c);
      const { messageId } = await postMessage(c, conversationId, `msg ${i}`);
      const m = await waitStatus(c, conversationId, messageId, 'completed', 30_000);
      assert.equal(m.model, SECONDARY_MODEL);
    }
    const tried = (await br.primary.runRequests()).length;
    assert.ok(tried < n, `the failing primary should be skipped at least once in ${n} messages, was asked ${tried} times`);
  });
});

describe('no provider configured', () => {
  const none = useMockedServer({ mocks: 0 });
  test('POST answers 200; the message fails at once with the documented sentence', async () => {
    const c = none.client();
    const { conversationId } = await newChat(c);
    const { messageId, runId } = await postMessage(c, conversationId, 'anyone there?');
    assert.match(runId, /^run_/);
    const m = await waitStatus(c, conversationId, messageId, 'failed', 10_000);
    assert.equal(m.error, 'No AI provider configured: set OPENROUTER_API_KEY or CEREBRAS_API_KEY');
    // Not locked: the next POST is accepted and fails the same way.
    const next = await postMessage(c, conversationId, 'still nobody?');
    const n = await waitStatus(c, conversationId, next.messageId, 'failed', 10_000);
    assert.equal(n.error, m.error);
  });

  test('a conversation without a title and no provider still fails cleanly', async () => {
    const c = none.client();
    const { conversationId } = await newChat(c, { title: null });
    const { messageId } = await postMessage(c, conversationId, 'hello?');
    const m = await waitStatus(c, conversationId, messageId, 'failed', 10_000);
    assert.equal(m.error, 'No AI provider configured: set OPENROUTER_API_KEY or CEREBRAS_API_KEY');
  });
});

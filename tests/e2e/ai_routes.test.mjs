// Tool-less AI routes (POST /api/suggestion, POST /api/quick-edit) and the background
// conversation title generated from the first message.
import { describe, test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { expectStatus, expectOk, request, expectErrorBody, describeRes } from './lib/server.mjs';
import {
  useMockedServer, isTitleRequest, newChat, postMessage, waitFor, waitStatus, words,
} from './lib/mock.mjs';

const ctx = useMockedServer({ mocks: 1 });
beforeEach(async () => { await ctx.resetMocks(); });

const SUGGESTION_BODY = {
  fileName: 'src/app.js',
  code: 'function add(a, b) {\n  \n}\n',
  currentLine: '  ',
  previousLines: 'function add(a, b) {',
  textBeforeCursor: '  ',
  textAfterCursor: '',
  nextLines: '}',
  lineNumber: 2,
};
const QUICK_EDIT_BODY = {
  selectedCode: 'var x = 1;',
  fullCode: 'var x = 1;\nconsole.log(x);\n',
  instruction: 'use const',
};

describe('POST /api/suggestion', () => {
  test('answers {suggestion} with the model text; no tools offered; the context is in the prompt', async () => {
    const c = ctx.client();
    await ctx.primary.script([{ type: 'text', text: 'return a + b;' }]);
    const res = await c.post('/api/suggestion', SUGGESTION_BODY);
    const body = expectOk(res, 'POST /api/suggestion');
    assert.deepEqual(body, { suggestion: 'return a + b;' });
    const reqs = await ctx.primary.requests();
    assert.equal(reqs.length, 1);
    assert.ok(!reqs[0].body.tools || reqs[0].body.tools.length === 0, 'no tools for a suggestion');
    const prompt = JSON.stringify(reqs[0].body.messages);
    assert.ok(prompt.includes('src/app.js'), 'file name in the prompt');
    assert.ok(prompt.includes('function add(a, b)'), 'code in the prompt');
  });

  test('only code is required', async () => {
    const c = ctx.client();
    await ctx.primary.script([{ type: 'text', text: 'x' }]);
    expectOk(await c.post('/api/suggestion', { code: 'let a' }), 'just code');
  });

  for (const [what, raw] of [
    ['code missing', JSON.stringify({ ...SUGGESTION_BODY, code: undefined })],
    ['code empty', JSON.stringify({ ...SUGGESTION_BODY, code: '' })],
    ['code a number', JSON.stringify({ ...SUGGESTION_BODY, code: 5 })],
    ['lineNumber a string', JSON.stringify({ ...SUGGESTION_BODY, lineNumber: 'two' })],
    ['not JSON', '{"code":'],
    ['array', '[]'],
  ]) {
    test(`400 for ${what}, provider not asked`, async () => {
      const c = ctx.client();
      expectStatus(await c.req('POST', '/api/suggestion', { raw }), 400, what);
      assert.equal((await ctx.primary.requests()).length, 0);
    });
  }

  test('401 without a token (even with a bad body)', async () => {
    expectStatus(await request(ctx.server, 'POST', '/api/suggestion', { body: SUGGESTION_BODY }), 401, 'no token');
    expectStatus(await request(ctx.server, 'POST', '/api/suggestion', { raw: '{', auth: 'Bearer bad' }), 401, 'bad token');
    assert.equal((await ctx.primary.requests()).length, 0);
  });
});

describe('POST /api/quick-edit', () => {
  test('answers {editedCode} with the model text', async () => {
    const c = ctx.client();
    await ctx.primary.script([{ type: 'text', text: 'const x = 1;' }]);
    const body = expectOk(await c.post('/api/quick-edit', QUICK_EDIT_BODY), 'POST /api/quick-edit');
    assert.deepEqual(body, { editedCode: 'const x = 1;' });
    const reqs = await ctx.primary.requests();
    assert.equal(reqs.length, 1);
    const prompt = JSON.stringify(reqs[0].body.messages);
    assert.ok(prompt.includes('use const') && prompt.includes('var x = 1;'), 'instruction and code in the prompt');
  });

  for (const [what, raw] of [
    ['instruction missing', JSON.stringify({ ...QUICK_EDIT_BODY, instruction: undefined })],
    ['instruction empty', JSON.stringify({ ...QUICK_EDIT_BODY, instruction: '' })],
    ['selectedCode missing', JSON.stringify({ ...QUICK_EDIT_BODY, selectedCode: undefined })],
    ['instruction a number', JSON.stringify({ ...QUICK_EDIT_BODY, instruction: 3 })],
    ['not JSON', 'nope'],
  ]) {
    test(`400 for ${what}, provider not asked`, async () => {
      const c = ctx.client();
      expectStatus(await c.req('POST', '/api/quick-edit', { raw }), 400, what);
      assert.equal((await ctx.primary.requests()).length, 0);
    });
  }

  test('401 without a token', async () => {
    expectStatus(await request(ctx.server, 'POST', '/api/quick-edit', { body: QUICK_EDIT_BODY }), 401, 'no token');
  });
});

describe('AI routes when the provider fails', () => {
  for (const fault of ['http500', 'drop', 'http401']) {
    test(`${fault}: suggestion and quick-edit answer a 5xx JSON error`, async () => {
      const c = ctx.client();
      await ctx.primary.script([{ type: 'fault', fault, sticky: true }]);
      for (const [route, body] of [['/api/suggestion', SUGGESTION_BODY], ['/api/quick-edit', QUICK_EDIT_BODY]]) {
        const res = await c.post(route, body, { timeout: 30_000 });
        assert.ok(res.status >= 500 && res.status < 600, `${route}: 5xx expected, got ${describeRes(res)}`);
        expectErrorBody(res, route);
      }
    });
  }

  describe('no provider configured', () => {
    const none = useMockedServer({ mocks: 0 });
    test('suggestion and quick-edit answer a 5xx JSON error; validation still 400', async () => {
      const c = none.client();
      for (const [route, body] of [['/api/suggestion', SUGGESTION_BODY], ['/api/quick-edit', QUICK_EDIT_BODY]]) {
        const res = await c.post(route, body);
        assert.ok(res.status >= 500 && res.status < 600, `${route}: 5xx expected, got ${describeRes(res)}`);
        expectErrorBody(res, route);
      }
      expectStatus(await c.post('/api/suggestion', {}), 400, 'no code');
    });
  });
});

// --max-runs 1 plus a slow "blocker" run in another project makes the order of provider requests
// deterministic: the untitled conversation's run waits for the slot, its title request does not.
describe('conversation title', () => {
  const t = useMockedServer({ mocks: 1, args: ['--max-runs', '1'] });
  beforeEach(async () => { await t.resetMocks(); });

  async function withBlocker(c, titleStep, runStep) {
    const blocker = await newChat(c, { title: 'Blocker' });
    await t.primary.script([{ type: 'text', text: words(20), chunks: 20, delayMs: 100 }, titleStep, runStep]);
    const b = await postMessage(c, blocker.conversationId, 'block the slot');
    await waitFor(async () => (await t.primary.requests()).length >= 1, { what: 'blocker to reach the provider' });
    return { blocker, b };
  }

  test('a conversation without a title gets one from the provider; the message is unaffected', async () => {
    const c = t.client();
    const { blocker, b } = await withBlocker(c,
      { type: 'text', text: 'Todo List Component' },
      { type: 'text', text: 'Here is your component.' });
    const { conversationId } = await newChat(c, { title: null });
    expectOk(await c.get(`/api/conversations/${conversationId}`));
    const { messageId } = await postMessage(c, conversationId, 'Create a React component for a todo list');
    const conv = await waitFor(async () => {
      const doc = expectOk(await c.get(`/api/conversations/${conversationId}`), 'GET conversation');
      return doc.title !== 'New conversation' ? doc : null;
    }, { timeout: 10_000, what: 'the generated title' });
    assert.equal(conv.title, 'Todo List Component');
    const m = await waitStatus(c, conversationId, messageId, 'completed');
    assert.equal(m.content, 'Here is your component.');
    await waitStatus(c, blocker.conversationId, b.messageId, 'completed');

    const reqs = await t.primary.requests();
    const titleReqs = reqs.filter(isTitleRequest);
    assert.equal(titleReqs.length, 1, 'one title request');
    assert.ok(JSON.stringify(titleReqs[0].body.messages).includes('Create a React component for a todo list'));
    assert.ok(!titleReqs[0].body.tools || titleReqs[0].body.tools.length === 0, 'no tools for the title');

    // A second message does not ask for a title again.
    await t.primary.reset();
    const next = await postMessage(c, conversationId, 'and another thing');
    await waitStatus(c, conversationId, next.messageId, 'completed');
    assert.equal((await t.primary.requests()).filter(isTitleRequest).length, 0, 'no second title request');
    assert.equal(expectOk(await c.get(`/api/conversations/${conversationId}`)).title, 'Todo List Component');
  });

  for (const fault of ['http500', 'http400', 'drop']) {
    test(`a title request failing with ${fault} leaves the default title and never touches the message`, async () => {
      const c = t.client();
      const { blocker, b } = await withBlocker(c,
        { type: 'fault', fault },
        { type: 'text', text: 'The real answer.' });
      const { conversationId } = await newChat(c, { title: 'New conversation' });
      const { messageId } = await postMessage(c, conversationId, 'Make me a todo app');
      await waitFor(async () => (await t.primary.requests()).some(isTitleRequest), { what: 'the title request' });
      const m = await waitStatus(c, conversationId, messageId, 'completed', 20_000);
      assert.equal(m.content, 'The real answer.');
      assert.equal(m.error, undefined);
      assert.equal(expectOk(await c.get(`/api/conversations/${conversationId}`)).title, 'New conversation');
      await waitStatus(c, blocker.conversationId, b.messageId, 'completed');
    });
  }

  test('a custom title is never replaced', async () => {
    const c = t.client();
    const { conversationId } = await newChat(c, { title: 'My own title' });
    const { messageId } = await postMessage(c, conversationId, 'hello');
    await waitStatus(c, conversationId, messageId, 'completed');
    assert.equal((await t.primary.requests()).filter(isTitleRequest).length, 0);
    assert.equal(expectOk(await c.get(`/api/conversations/${conversationId}`)).title, 'My own title');
  });
});

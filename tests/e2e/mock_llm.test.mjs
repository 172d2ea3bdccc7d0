// Black-box tests of `polaris mock-llm`: the scripted OpenAI-compatible provider stand-in.
// Node built-ins only. POLARIS_BIN overrides the binary (default build/polaris).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const BIN = process.env.POLARIS_BIN
  ? path.resolve(process.env.POLARIS_BIN)
  : path.resolve(here, '..', '..', 'build', 'polaris');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// For races: a timer that does not keep the process alive once the tests are done.
const raceTimer = (ms, value) => new Promise((r) => setTimeout(() => r(value), ms).unref());

// Starts the mock on a free port; resolves once it prints its address.
async function startMock() {
  assert.ok(fs.existsSync(BIN), `polaris binary not found at ${BIN}`);
  const proc = spawn(BIN, ['mock-llm', '--host', '127.0.0.1', '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  proc.stderr.on('data', (d) => { stderr += d; });
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal })));
  const base = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`mock-llm did not start: ${stderr}`)), 10_000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/mock-llm listening on (http:\/\/\S+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => reject(new Error(`mock-llm exited (${code}): ${stderr}`)));
  });
  return { proc, base, exited, stderr: () => stderr };
}

let mock;
const url = (p) => mock.base + p;

function chat(body, { headers = {}, signal, route = '/v1/chat/completions' } = {}) {
  return fetch(url(route), {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test', ...headers },
    body: JSON.stringify({ model: 'test/model', ...body }),
    signal,
  });
}

async function script(steps, reset = false) {
  const res = await fetch(url('/_mock/script'), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ steps, reset }),
  });
  assert.equal(res.status, 200, await res.clone().text());
  assert.equal((await res.json()).ok, true);
}

const stats = async () => (await fetch(url('/_mock/stats'))).json();
const user = (content) => ({ messages: [{ role: 'user', content }] });

// Splits an SSE body into comments and data payloads ('[DONE]' kept as a string).
function parseSse(text) {
  const comments = [];
  const data = [];
  for (const block of text.split('\n\n')) {
    if (!block) continue;
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim());
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
  }
  const chunks = data.filter((d) => d !== '[DONE]').map((d) => JSON.parse(d));
  return { comments, data, chunks, done: data.at(-1) === '[DONE]' };
}

const content = (chunks) => chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
const finishes = (chunks) => chunks.map((c) => c.choices?.[0]?.finish_reason).filter(Boolean);

// Reassembles streamed tool calls by index, as a provider client must.
function toolCalls(chunks) {
  const calls = [];
  for (const c of chunks) {
    for (const tc of c.choices?.[0]?.delta?.tool_calls ?? []) {
      calls[tc.index] ??= { id: '', name: '', args: '', fragments: 0 };
      const call = calls[tc.index];
      if (tc.id) call.id = tc.id;
      if (tc.function?.name) call.name = tc.function.name;
      call.args += tc.function?.arguments ?? '';
      call.fragments += 1;
    }
  }
  return calls;
}

async function streamed(body) {
  const res = await chat({ stream: true, ...body });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type'), /text\/event-stream/);
  return parseSse(await res.text());
}

before(async () => { mock = await startMock(); });
after(async () => {
  if (mock.proc.exitCode === null) mock.proc.kill('SIGKILL');
});
beforeEach(async () => {
  const res = await fetch(url('/_mock/reset'), { method: 'POST' });
  assert.equal(res.status, 200);
});

describe('default answers', () => {
  test('text stream with usage and [DONE]', async () => {
    const sse = await streamed({
      ...user('Hello there, how are you doing today? Tell me something.'),
      stream_options: { include_usage: true },
    });
    assert.equal(sse.comments[0], 'MOCK PROCESSING');
    assert.equal(content(sse.chunks), 'Mock reply to: Hello there, how are you doing today? Tell me something.');
    assert.ok(sse.chunks.filter((c) => c.choices[0]?.delta?.content).length > 3, 'several chunks');
    assert.equal(sse.done, true);
    assert.deepEqual(finishes(sse.chunks), ['stop']);
    for (const c of sse.chunks) {
      assert.equal(c.object, 'chat.completion.chunk');
      assert.equal(c.model, 'test/model');
      assert.match(c.id, /^chatcmpl-/);
      assert.equal(typeof c.created, 'number');
    }
    const usage = sse.chunks.at(-1);
    assert.deepEqual(usage.choices, []);
    assert.equal(usage.usage.total_tokens, usage.usage.prompt_tokens + usage.usage.completion_tokens);
    assert.ok(usage.usage.completion_tokens > 0);
  });

  test('no usage chunk unless asked; long messages are cut at 60 characters', async () => {
    const sse = await streamed(user('x'.repeat(100)));
    assert.equal(sse.chunks.some((c) => c.usage), false);
    assert.equal(content(sse.chunks), `Mock reply to: ${'x'.repeat(60)}`);
  });

  test('non-streamed chat.completion, on the alternate routes too', async () => {
    for (const route of ['/chat/completions', '/api/v1/chat/completions']) {
      const res = await chat(user('hi'), { route });
      assert.equal(res.status, 200);
      const body = await res.json();
      assert.equal(body.object, 'chat.completion');
      assert.equal(body.choices[0].message.content, 'Mock reply to: hi');
      assert.equal(body.choices[0].finish_reason, 'stop');
      assert.ok(body.usage.total_tokens > 0);
    }
  });

  test('"create file" gives a write_file call, a tool result gives "Done."', async () => {
    const sse = await streamed(user('please create file src/a.js now'));
    assert.deepEqual(finishes(sse.chunks), ['tool_calls']);
    const [call] = toolCalls(sse.chunks);
    assert.equal(call.name, 'write_file');
    assert.ok(call.id);
    assert.deepEqual(JSON.parse(call.args), { path: 'src/a.js', content: '// created by mock-llm\n' });

    const next = await streamed({
      messages: [
        { role: 'user', content: 'create file a' },
        { role: 'assistant', content: null, tool_calls: [{ id: call.id, type: 'function', function: { name: 'write_file', arguments: call.args } }] },
        { role: 'tool', tool_call_id: call.id, content: 'ok' },
      ],
    });
    assert.equal(content(next.chunks), 'Done.');
  });
});

describe('scripted steps', () => {
  test('text step with chunks, reasoning kept out of content, given usage', async () => {
    await script([{ type: 'text', text: 'abcdefghij', chunks: 5, reasoning: 'let me think about it', usage: { prompt: 11, completion: 22 } }]);
    const sse = await streamed({ ...user('q'), stream_options: { include_usage: true } });
    const pieces = sse.chunks.map((c) => c.choices[0]?.delta?.content).filter((x) => x !== undefined);
    assert.deepEqual(pieces, ['ab', 'cd', 'ef', 'gh', 'ij']);
    const reasoning = sse.chunks.map((c) => c.choices[0]?.delta?.reasoning ?? '').join('');
    assert.equal(reasoning, 'let me think about it');
    assert.deepEqual(sse.chunks.at(-1).usage, { prompt_tokens: 11, completion_tokens: 22, total_tokens: 33 });
  });

  test('tool_calls step: arguments in fragments reassemble to the object', async () => {
    const args = { path: 'src/main.ts', content: 'export const x = "héllo";\n', mode: 420 };
    await script([{
      type: 'tool_calls', text: 'Writing it.', splitArgs: 4,
      calls: [{ id: 'call_1', name: 'write_file', arguments: args }, { name: 'read_file', arguments: '{"path":"a"}' }],
    }]);
    const sse = await streamed(user('go'));
    assert.equal(content(sse.chunks), 'Writing it.');
    assert.deepEqual(finishes(sse.chunks), ['tool_calls']);
    assert.equal(sse.done, true);
    const calls = toolCalls(sse.chunks);
    assert.equal(calls.length, 2);
    assert.equal(calls[0].id, 'call_1');
    assert.equal(calls[0].name, 'write_file');
    assert.equal(calls[0].fragments, 4);
    assert.deepEqual(JSON.parse(calls[0].args), args);
    assert.ok(calls[1].id, 'a generated id');
    assert.equal(calls[1].name, 'read_file');
    assert.deepEqual(JSON.parse(calls[1].args), { path: 'a' });
    // id, type and name only in the first fragment of each call
    const later = sse.chunks.flatMap((c) => c.choices[0]?.delta?.tool_calls ?? []).filter((tc) => !tc.id);
    assert.ok(later.length >= 4 && later.every((tc) => !tc.function.name && !tc.type));
  });

  test('steps are answered in order, then the default again', async () => {
    await script([{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }]);
    assert.equal(content((await streamed(user('a'))).chunks), 'one');
    assert.equal(content((await streamed(user('a'))).chunks), 'two');
    assert.equal(content((await streamed(user('a'))).chunks), 'Mock reply to: a');
  });

  test('a sticky step repeats until reset', async () => {
    await script([{ type: 'text', text: 'again', sticky: true }]);
    for (let i = 0; i < 3; i++) assert.equal(content((await streamed(user('a'))).chunks), 'again');
    await script([{ type: 'text', text: 'fresh' }], true);
    assert.equal(content((await streamed(user('a'))).chunks), 'fresh');
  });

  test('a bad script is refused with 400', async () => {
    for (const steps of [[{ type: 'nope' }], [{ type: 'fault', fault: 'boom' }], [{ type: 'tool_calls', calls: [] }], [{ delayMs: -1 }]]) {
      const res = await fetch(url('/_mock/script'), { method: 'POST', body: JSON.stringify({ steps }) });
      assert.equal(res.status, 400, JSON.stringify(steps));
    }
  });

  test('an invalid body is refused, recorded, and leaves the script alone', async () => {
    await script([{ type: 'text', text: 'kept' }]);
    const res = await fetch(url('/v1/chat/completions'), { method: 'POST', body: '{oops' });
    assert.equal(res.status, 400);
    assert.equal((await res.json()).error.code, 400);
    const recorded = await (await fetch(url('/_mock/requests'))).json();
    assert.deepEqual(recorded, [{ body: '{oops', authorization: '' }]);
    assert.equal(content((await streamed(user('a'))).chunks), 'kept');
  });

  test('/_mock/requests records bodies and the Authorization header', async () => {
    await chat({ stream: true, ...user('first') }).then((r) => r.text());
    await chat(user('second'), { headers: { authorization: 'Bearer other' } }).then((r) => r.text());
    const recorded = await (await fetch(url('/_mock/requests'))).json();
    assert.equal(recorded.length, 2);
    assert.deepEqual(recorded[0].body, { model: 'test/model', stream: true, messages: [{ role: 'user', content: 'first' }] });
    assert.equal(recorded[0].authorization, 'Bearer sk-test');
    assert.equal(recorded[1].body.messages[0].content, 'second');
    assert.equal(recorded[1].authorization, 'Bearer other');
    const s = await stats();
    assert.equal(s.requests, 2);
    assert.equal(s.completed, 1);
  });
});

describe('faults', () => {
  test('http429 with Retry-After, http500/400/401 with an error body', async () => {
    await script([
      { type: 'fault', fault: 'http429', retryAfter: 7 },
      { type: 'fault', fault: 'http500' },
      { type: 'fault', fault: 'http400', message: 'bad param' },
      { type: 'fault', fault: 'http401' },
    ]);
    const r429 = await chat({ stream: true, ...user('a') });
    assert.equal(r429.status, 429);
    assert.equal(r429.headers.get('retry-after'), '7');
    assert.equal((await r429.json()).error.code, 429);
    const r500 = await chat({ stream: true, ...user('a') });
    assert.equal(r500.status, 500);
    assert.deepEqual(Object.keys((await r500.json()).error).sort(), ['code', 'message']);
    const r400 = await chat(user('a'));
    assert.equal(r400.status, 400);
    assert.equal((await r400.json()).error.message, 'bad param');
    assert.equal((await chat(user('a'))).status, 401);
  });

  test('drop closes the connection without an answer', async () => {
    await script([{ type: 'fault', fault: 'drop' }]);
    await assert.rejects(chat({ stream: true, ...user('a') }));
    assert.equal((await chat(user('after'))).status, 200, 'the server lives on');
  });

  test('error_chunk: one chunk, then an in-stream error and the end', async () => {
    await script([{ type: 'fault', fault: 'error_chunk', text: 'partial text here and more' }]);
    const sse = await streamed(user('a'));
    assert.equal(sse.done, false);
    assert.equal(content(sse.chunks), 'partial text here ');
    const last = sse.chunks.at(-1);
    assert.equal(last.error.code, 502);
    assert.equal(last.choices[0].finish_reason, 'error');
  });

  test('no_finish: text, then the body ends without finish_reason or [DONE]', async () => {
    await script([{ type: 'fault', fault: 'no_finish', text: 'all of this text arrives' }]);
    const sse = await streamed(user('a'));
    assert.equal(content(sse.chunks), 'all of this text arrives');
    assert.deepEqual(finishes(sse.chunks), []);
    assert.equal(sse.done, false);
  });

  test('malformed: a valid chunk, then an unparseable event', async () => {
    await script([{ type: 'fault', fault: 'malformed' }]);
    const res = await chat({ stream: true, ...user('a') });
    const text = await res.text();
    assert.match(text, /data: \{not json\n\n/);
    assert.throws(() => parseSse(text));
  });

  test('drop_mid_stream: part of the text, then a reset', async () => {
    await script([{ type: 'fault', fault: 'drop_mid_stream', text: 'one two three four five six seven eight nine ten eleven twelve' }]);
    const res = await chat({ stream: true, ...user('a') });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    let got = '';
    await assert.rejects(async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) throw new Error(`body ended cleanly: ${got}`);
        got += Buffer.from(value).toString();
      }
    });
    assert.match(got, /one two three /);
    assert.doesNotMatch(got, /twelve/);
  });

  test('empty_200: a 200 with an empty body', async () => {
    await script([{ type: 'fault', fault: 'empty_200' }]);
    const res = await chat({ stream: true, ...user('a') });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '');
  });

  test('stall: headers and the comment, then silence', async () => {
    await script([{ type: 'fault', fault: 'stall' }]);
    const ctl = new AbortController();
    const res = await chat({ stream: true, ...user('a') }, { signal: ctl.signal });
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    const first = Buffer.from((await reader.read()).value).toString();
    assert.match(first, /: MOCK PROCESSING/);
    const next = await Promise.race([reader.read().then(() => 'data'), raceTimer(500, 'silent')]);
    assert.equal(next, 'silent');
    ctl.abort();
  });

  test('a client leaving a slow stream is counted as a disconnect', async () => {
    const words = Array.from({ length: 40 }, (_, i) => `w${i}`).join(' ');
    await script([{ type: 'text', text: words, delayMs: 150 }]);
    const ctl = new AbortController();
    const res = await chat({ stream: true, ...user('a') }, { signal: ctl.signal });
    const reader = res.body.getReader();
    let got = '';
    while (!got.includes('"content"')) got += Buffer.from((await reader.read()).value).toString();
    ctl.abort();
    let s;
    for (let i = 0; i < 50; i++) {
      s = await stats();
      if (s.disconnects > 0) break;
      await sleep(100);
    }
    assert.equal(s.disconnects, 1);
    assert.equal(s.completed, 0);
  });
});

test('SIGTERM stops the mock cleanly, even with a stalled stream open', async () => {
  await script([{ type: 'fault', fault: 'stall' }]);
  const ctl = new AbortController();
  const res = await chat({ stream: true, ...user('a') }, { signal: ctl.signal });
  await res.body.getReader().read();
  mock.proc.kill('SIGTERM');
  const result = await Promise.race([mock.exited, raceTimer(8000, 'timeout')]);
  ctl.abort();
  assert.deepEqual(result, { code: 0, signal: null }, mock.stderr());
});

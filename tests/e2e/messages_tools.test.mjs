// Messages API with tool calls: write_file happy path (fragmented arguments), the tool table,
// failures given back to the model (path escape, broken JSON, unknown tool), the step cap and
// the repeated-call stop.
import { describe, test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { expectOk, expectStatus } from './lib/server.mjs';
import {
  useMockedServer, newChat, postMessage, getMessages, waitFinal, waitStatus,
} from './lib/mock.mjs';

const ctx = useMockedServer({ mocks: 1 });
beforeEach(async () => { await ctx.resetMocks(); });

const fileContent = async (c, projectId, p) => c.get(`/api/projects/${projectId}/files/content?path=${encodeURIComponent(p)}`);

function assertFailure(result, what) {
  assert.ok(result && typeof result === 'object', `${what}: result must be recorded, got ${JSON.stringify(result)}`);
  assert.equal(result.success, false, `${what}: ${JSON.stringify(result)}`);
  assert.equal(typeof result.error, 'string', `${what}: error sentence expected, got ${JSON.stringify(result)}`);
  assert.ok(result.error.trim().length > 0, `${what}: non-empty error`);
}

describe('write_file happy path', () => {
  test('fragmented write_file: file exists, toolCalls recorded with result, content joined by a blank line', async () => {
    const c = ctx.client();
    const { projectId, conversationId } = await newChat(c);
    const path = 'src/components/TodoList.jsx';
    const content = "import React from 'react';\n\nexport default function TodoList() {\n  return <ul>{/* ✓ todo */}</ul>;\n}\n";
    await ctx.primary.script([
      { type: 'tool_calls', text: "I'll create a React component for you.", splitArgs: 4,
        calls: [{ id: 'call_todo', name: 'write_file', arguments: { path, content } }] },
      { type: 'text', text: 'The TodoList component is ready.' },
    ]);
    const { messageId } = await postMessage(c, conversationId, 'Create a React component for a todo list');
    const m = await waitStatus(c, conversationId, messageId, 'completed');
    assert.equal(m.content, "I'll create a React component for you.\n\nThe TodoList component is ready.");
    assert.ok(Array.isArray(m.toolCalls), `toolCalls array expected: ${JSON.stringify(m)}`);
    assert.equal(m.toolCalls.length, 1);
    const tc = m.toolCalls[0];
    assert.equal(tc.id, 'call_todo');
    assert.equal(tc.name, 'write_file');
    assert.deepEqual(tc.args, { path, content });
    assert.equal(tc.result?.success, true, JSON.stringify(tc));
    assert.equal(typeof tc.result.fileId, 'string');
    assert.deepEqual(Object.keys(tc.result).sort(), ['fileId', 'success']);

    const file = expectOk(await fileContent(c, projectId, path), 'GET file content');
    assert.equal(file.content, content);
    assert.equal(file.fileId, tc.result.fileId);
    assert.equal(file.path, path);

    // The second step was asked with the assistant tool call and the tool result.
    const reqs = await ctx.primary.runRequests();
    assert.equal(reqs.length, 2);
    const msgs = reqs[1].body.messages;
    const asst = msgs.find((x) => x.role === 'assistant' && Array.isArray(x.tool_calls));
    assert.ok(asst, `assistant message with tool_calls in the second request: ${JSON.stringify(msgs).slice(0, 2000)}`);
    assert.equal(asst.tool_calls[0].id, 'call_todo');
    assert.equal(asst.tool_calls[0].function.name, 'write_file');
    assert.deepEqual(JSON.parse(asst.tool_calls[0].function.arguments), { path, content });
    const toolMsg = msgs.find((x) => x.role === 'tool');
    assert.equal(toolMsg?.tool_call_id, 'call_todo');
    assert.equal(JSON.parse(toolMsg.content).success, true);
  });

  test('the mock\'s default "create file" call: file written, content "Done."', async () => {
    const c = ctx.client();
    const { projectId, conversationId } = await newChat(c);
    const { messageId } = await postMessage(c, conversationId, 'please create file notes/todo.md');
    const m = await waitStatus(c, conversationId, messageId, 'completed');
    assert.equal(m.content, 'Done.');
    assert.equal(m.toolCalls?.length, 1);
    assert.equal(m.toolCalls[0].name, 'write_file');
    assert.equal(m.toolCalls[0].result?.success, true);
    const file = expectOk(await fileContent(c, projectId, 'notes/todo.md'), 'GET file');
    assert.equal(file.content, '// created by mock-llm\n');
  });

  test('every tool of the table works on the project files', async () => {
    const c = ctx.client();
    const { projectId, conversationId } = await newChat(c);
    await ctx.primary.script([
      { type: 'tool_calls', calls: [
        { id: 't1', name: 'create_folder', arguments: { path: 'src/lib' } },
        { id: 't2', name: 'write_file', arguments: { path: 'src/lib/a.js', content: 'const needle = 1;\nexport default needle;\n' } },
        { id: 't3', name: 'write_file', arguments: { path: 'README.md', content: '# readme\n' } },
      ] },
      { type: 'tool_calls', calls: [
        { id: 't4', name: 'read_file', arguments: { path: 'src/lib/a.js' } },
        { id: 't5', name: 'list_files', arguments: {} },
        { id: 't6', name: 'search_files', arguments: { pattern: 'needle' } },
        { id: 't7', name: 'get_project_structure', arguments: {} },
      ] },
      { type: 'tool_calls', calls: [
        { id: 't8', name: 'rename_file', arguments: { path: 'src/lib/a.js', newName: 'b.js' } },
        { id: 't9', name: 'delete_file', arguments: { path: 'README.md' } },
      ] },
      { type: 'text', text: 'All done.' },
    ]);
    const { messageId } = await postMessage(c, conversationId, 'use all the tools');
    const m = await waitStatus(c, conversationId, messageId, 'completed');
    const byId = Object.fromEntries((m.toolCalls || []).map((t) => [t.id, t]));
    assert.deepEqual(Object.keys(byId).sort(), ['t1', 't2', 't3', 't4', 't5', 't6', 't7', 't8', 't9'],
      JSON.stringify(m.toolCalls));
    for (const t of m.toolCalls) assert.equal(t.result?.success, true, `${t.name}: ${JSON.stringify(t)}`);
    assert.equal(typeof byId.t1.result.fileId, 'string');
    assert.equal(byId.t4.result.content, 'const needle = 1;\nexport default needle;\n');
    const entries = byId.t5.result.entries;
    assert.ok(Array.isArray(entries), JSON.stringify(byId.t5));
    assert.deepEqual(entries.map((e) => [e.name, e.type]), [['src', 'folder'], ['README.md', 'file']], 'folders first');
    const matches = byId.t6.result.matches;
    assert.ok(Array.isArray(matches) && matches.length === 2, JSON.stringify(byId.t6));
    assert.deepEqual(matches[0], { path: 'src/lib/a.js', line: 1, text: 'const needle = 1;' });
    assert.ok(Array.isArray(byId.t7.result.paths), JSON.stringify(byId.t7));
    for (const p of ['src/lib/a.js', 'README.md']) assert.ok(byId.t7.result.paths.some((x) => x === p || x.endsWith(p)), `structure lists ${p}: ${JSON.stringify(byId.t7.result.paths)}`);
    assert.equal(typeof byId.t8.result.fileId, 'string');
    assert.equal(byId.t8.result.fileId, byId.t2.result.fileId, 'rename keeps the file id');

    expectOk(await fileContent(c, projectId, 'src/lib/b.js'), 'renamed file');
    expectStatus(await fileContent(c, projectId, 'src/lib/a.js'), 404, 'old name gone');
    expectStatus(await fileContent(c, projectId, 'README.md'), 404, 'deleted file gone');
    assert.equal(m.content, 'All done.');
  });
});

describe('tool failures go back to the model', () => {
  test('path escape, absolute path, broken JSON, unknown tool: {success:false,error}; the run continues', async () => {
    const c = ctx.client();
    const { projectId, conversationId } = await newChat(c);
    await ctx.primary.script([
      { type: 'tool_calls', text: 'Trying some things.', calls: [
        { id: 'bad1', name: 'write_file', arguments: { path: '../etc/passwd', content: 'x' } },
        { id: 'bad2', name: 'write_file', arguments: { path: '/etc/passwd', content: 'x' } },
        { id: 'bad3', name: 'write_file', arguments: '{not json' },
        { id: 'bad4', name: 'launch_missiles', arguments: { target: 'moon' } },
        { id: 'bad5', name: 'read_file', arguments: { path: 'does/not/exist.txt' } },
        { id: 'bad6', name: 'write_file', arguments: { path: 'a/./b.txt', content: 'x' } },
      ] },
      { type: 'text', text: 'Recovered.' },
    ]);
    const { messageId } = await postMessage(c, conversationId, 'be naughty');
    const m = await waitStatus(c, conversationId, messageId, 'completed');
    assert.equal(m.content, 'Trying some things.\n\nRecovered.');
    assert.equal(m.toolCalls?.length, 6, JSON.stringify(m.toolCalls));
    for (const t of m.toolCalls) assertFailure(t.result, `${t.id} ${t.name}`);
    assert.equal(m.toolCalls[3].name, 'launch_missiles');
    // Nothing escaped the project or landed in it.
    const files = expectOk(await c.get(`/api/projects/${projectId}/files`), 'list files');
    assert.deepEqual(files, [], `no files created: ${JSON.stringify(files)}`);
    // The model was told about each failure.
    const reqs = await ctx.primary.runRequests();
    assert.equal(reqs.length, 2);
    const toolMsgs = reqs[1].body.messages.filter((x) => x.role === 'tool');
    assert.equal(toolMsgs.length, 6);
    for (const t of toolMsgs) assert.equal(JSON.parse(t.content).success, false);
  });
});

describe('loop limits', () => {
  test('default cap: at most 10 model steps, the message ends', async () => {
    const c = ctx.client();
    const { conversationId } = await newChat(c);
    const steps = Array.from({ length: 14 }, (_, i) => ({
      type: 'tool_calls', calls: [{ name: 'write_file', arguments: { path: `f${i}.txt`, content: `${i}` } }],
    }));
    await ctx.primary.script(steps);
    const { messageId } = await postMessage(c, conversationId, 'loop forever');
    const m = await waitFinal(c, conversationId, messageId, 30_000);
    assert.notEqual(m.status, 'processing');
    const reqs = await ctx.primary.runRequests();
    assert.ok(reqs.length <= 10, `at most 10 provider requests, got ${reqs.length}`);
    assert.ok(reqs.length >= 9, `the loop should have run up to the cap, got ${reqs.length}`);
  });

  test('the same call repeated: the run stops by the third time', async () => {
    const c = ctx.client();
    const { projectId, conversationId } = await newChat(c);
    await ctx.primary.script([{ type: 'tool_calls', sticky: true,
      calls: [{ name: 'write_file', arguments: { path: 'loop.txt', content: 'same' } }] }]);
    const { messageId } = await postMessage(c, conversationId, 'repeat yourself');
    const m = await waitFinal(c, conversationId, messageId, 30_000);
    assert.notEqual(m.status, 'processing');
    const reqs = await ctx.primary.runRequests();
    assert.ok(reqs.length <= 3, `at most 3 provider requests, got ${reqs.length}`);
    assert.ok((m.toolCalls?.length ?? 0) <= 2, `at most 2 executed calls recorded, got ${JSON.stringify(m.toolCalls)}`);
    const file = expectOk(await c.get(`/api/projects/${projectId}/files/content?path=loop.txt`), 'file');
    assert.equal(file.content, 'same');
    await ctx.primary.reset();
    // The project is free again.
    const next = await postMessage(c, conversationId, 'hello again');
    await waitStatus(c, conversationId, next.messageId, 'completed');
  });

  describe('POLARIS_MAX_STEPS=3', () => {
    const capped = useMockedServer({ mocks: 1, env: { POLARIS_MAX_STEPS: 3 } });
    test('distinct tool calls forever: ≤ 3 provider requests, message ends', async () => {
      const c = capped.client();
      const { conversationId } = await newChat(c);
      await capped.primary.script(Array.from({ length: 6 }, (_, i) => ({
        type: 'tool_calls', calls: [{ name: 'write_file', arguments: { path: `g${i}.txt`, content: 'x' } }],
      })));
      const { messageId } = await postMessage(c, conversationId, 'loop');
      const m = await waitFinal(c, conversationId, messageId, 30_000);
      assert.notEqual(m.status, 'processing');
      const reqs = await capped.primary.runRequests();
      assert.ok(reqs.length <= 3 && reqs.length >= 2, `≤ 3 provider requests, got ${reqs.length}`);
      assert.equal((await getMessages(c, conversationId)).length, 2);
    });
  });
});

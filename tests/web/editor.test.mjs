// Flows 5–8: editing and autosave (surviving a reload), the assistant changing the open file,
// ghost-text suggestions accepted with Tab, and quick edit (Ctrl+K) with a reviewed diff.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  useStack, newUser, openProject, openFromTree, editor, waitEditorText, waitSaveStatus, fileContent, recordEditorTexts,
  waitForText, waitFor, WAIT_MS,
} from './lib.mjs';

const ctx = useStack();
beforeEach(() => ctx.resetMocks());

test('an edit is saved and is still there after a reload', async () => {
  const pg = await ctx.open({ flow: '05' });
  const { page } = pg;
  const { projectId, api } = await openProject(ctx, pg, newUser('editor'), 'Editing demo', {
    'notes.md': '# Notes\n\nfirst line\n',
  });
  await openFromTree(page, 'notes.md');
  await waitEditorText(page, '# Notes\n\nfirst line\n');
  await editor(page).click();
  await page.keyboard.press('Control+End');
  const shown = await recordEditorTexts(page);
  await page.keyboard.type('typed in the browser');
  await waitSaveStatus(page, 'Unsaved changes');
  await waitSaveStatus(page, 'Saved');
  const expected = '# Notes\n\nfirst line\ntyped in the browser';
  await waitFor(async () => (await fileContent(api, projectId, 'notes.md')) === expected,
    { timeout: WAIT_MS, what: 'the server to hold the edit' });
  // Saving must not flash the older text while the live document catches up.
  const texts = await shown();
  const after = texts.slice(texts.indexOf(expected));
  assert.ok(texts.includes(expected) && after.every((t) => t === expected),
    `once typed, the editor showed only the edit; it showed:\n${after.map((t) => JSON.stringify(t)).join('\n')}`);
  await pg.shot('saved');

  await page.reload();
  await page.getByRole('tree', { name: 'Files' }).waitFor();
  await openFromTree(page, 'notes.md');
  await waitEditorText(page, expected, 'the edit after a reload');
  await pg.shot('after-reload');
  pg.assertNoErrors();
  await pg.close();
});

test('the assistant changes the open file: the editor shows the new content without reopening', async () => {
  const pg = await ctx.open({ flow: '06' });
  const { page } = pg;
  const before = "export const answer = 41;\n";
  const after = "// Fixed by the assistant.\nexport const answer = 42;\n";
  await openProject(ctx, pg, newUser('live'), 'Live file demo', { 'answer.js': before });
  await openFromTree(page, 'answer.js');
  await waitEditorText(page, before);
  await ctx.stack.mocks.run.script([
    { type: 'tool_calls', text: 'Fixing the answer.', calls: [{ id: 'fix', name: 'write_file', arguments: { path: 'answer.js', content: after } }] },
    { type: 'text', text: 'The answer is 42 now.' },
  ]);
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill('Fix the answer');
  await page.getByRole('button', { name: 'Send' }).click();
  await waitEditorText(page, after, 'the assistant\'s content in the open editor');
  await waitForText(page.getByRole('log', { name: 'Messages' }).getByRole('article', { name: 'Assistant' }).last(),
    /The answer is 42 now/, 'the reply');
  await pg.shot('changed-live');
  pg.assertNoErrors();
  await pg.close();
});

test('a ghost suggestion appears while typing and Tab accepts it', async () => {
  const pg = await ctx.open({ flow: '07' });
  const { page } = pg;
  const { projectId, api } = await openProject(ctx, pg, newUser('ghost'), 'Ghost demo', {
    'math.js': 'function add(a, b) {\n  \n}\n',
  });
  await ctx.stack.mocks.suggest.script([{ type: 'text', text: 'eturn a + b;', sticky: true }]);
  await openFromTree(page, 'math.js');
  await waitEditorText(page, 'function add(a, b) {\n  \n}\n');
  await editor(page).click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  await page.keyboard.type('r');
  const ghost = editor(page).locator('.cm-ghostText');
  await ghost.first().waitFor();
  assert.equal(await ghost.first().textContent(), 'eturn a + b;');
  await pg.shot('ghost-shown');
  // Accepting changes the text; further suggestions would only add noise now.
  await ctx.stack.mocks.suggest.script([{ type: 'text', text: '', sticky: true }]);
  await page.keyboard.press('Tab');
  const expected = 'function add(a, b) {\n  return a + b;\n}\n';
  await waitEditorText(page, expected, 'the accepted suggestion');
  await waitFor(async () => (await fileContent(api, projectId, 'math.js')) === expected,
    { timeout: WAIT_MS, what: 'the accepted suggestion saved' });
  await pg.shot('ghost-accepted');

  const asked = (await ctx.stack.mocks.suggest.requests()).map((r) => JSON.stringify(r.body.messages));
  assert.ok(asked.some((m) => m.includes('math.js') && m.includes('function add(a, b)')),
    'the suggestion request carried the file name and code');
  pg.assertNoErrors();
  await pg.close();
});

test('quick edit: Ctrl+K on a selection, an instruction, a diff, Accept', async () => {
  const pg = await ctx.open({ flow: '08' });
  const { page } = pg;
  const { projectId, api } = await openProject(ctx, pg, newUser('quick'), 'Quick edit demo', {
    'q.js': 'var x = 1;\nconsole.log(x);\n',
  });
  await ctx.stack.mocks.edit.script([{ type: 'text', text: 'const x = 1;' }]);
  await openFromTree(page, 'q.js');
  await waitEditorText(page, 'var x = 1;\nconsole.log(x);\n');
  await editor(page).click();
  await page.keyboard.press('Control+Home');
  await page.keyboard.press('Shift+End');
  await page.keyboard.press('Control+k');
  const instruction = page.getByRole('textbox', { name: 'Instruction' });
  await instruction.fill('use const');
  await instruction.press('Enter');
  const accept = page.getByRole('button', { name: 'Accept' });
  await accept.waitFor();
  const diff = page.getByRole('textbox', { name: 'Proposed change' });
  await waitForText(diff, /const x = 1;/, 'the proposed code in the diff');
  await pg.shot('diff');
  await accept.click();
  const expected = 'const x = 1;\nconsole.log(x);\n';
  await waitEditorText(page, expected, 'the accepted edit');
  await waitFor(async () => (await fileContent(api, projectId, 'q.js')) === expected,
    { timeout: WAIT_MS, what: 'the accepted edit saved' });
  await pg.shot('accepted');

  const [req] = await ctx.stack.mocks.edit.requests();
  const prompt = JSON.stringify(req.body.messages);
  assert.ok(prompt.includes('use const') && prompt.includes('var x = 1;'), 'instruction and selection sent');
  pg.assertNoErrors();
  await pg.close();
});

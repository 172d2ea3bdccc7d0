// Flows 4, 9, 10, 11: a reply that streams in and then writes a file (marked in the tree until
// opened), stopping a slow reply, a reply whose provider fails, and hostile Markdown.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import {
  useStack, newUser, openProject, openFromTree, waitEditorText, waitForText, changeMarker,
  waitFor, WAIT_MS,
} from './lib.mjs';
import { words } from '../e2e/lib/mock.mjs';

const ctx = useStack();
beforeEach(() => ctx.resetMocks());

const assistant = (page) => page.getByRole('log', { name: 'Messages' }).getByRole('article', { name: 'Assistant' });

async function send(page, text) {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
}

/**
 * Records the text of the newest assistant article on every change of the log (a
 * MutationObserver sees each render), so the test can tell a stream from one late paint.
 */
async function recordReplies(page) {
  await page.getByRole('log', { name: 'Messages' }).evaluate((log) => {
    window.__replySamples = [];
    const grab = () => {
      const all = log.querySelectorAll('article[aria-label="Assistant"], [role="article"][aria-label="Assistant"]');
      const last = all[all.length - 1];
      if (!last) return;
      const text = last.innerText;
      const samples = window.__replySamples;
      if (samples[samples.length - 1] !== text) samples.push(text);
    };
    new MutationObserver(grab).observe(log, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => window.__replySamples);
}

const HELLO_JS = [
  '// Greets whoever runs it; written by the assistant.',
  'export function hello(name = "world") {',
  '  const greeting = `Hello, ${name}!`;',
  '  console.log(greeting);',
  '  return greeting;',
  '}',
  '',
  'export function shout(name) {',
  '  return hello(name).toUpperCase();',
  '}',
  '',
].join('\n');
const STREAMED = 'Sure. I will write a small module with two functions, hello and shout, ' +
  'so you can see how the assistant creates files in your project while it answers.';

test('a reply streams in chunk by chunk, writes a file that is marked in the tree until opened', async () => {
  const pg = await ctx.open({ flow: '04' });
  const { page } = pg;
  await openProject(ctx, pg, 'ada', 'Streaming demo', {
    'README.md': '# Streaming demo\n',
    'src/index.js': "import { hello } from '../hello.js';\n\nhello();\n",
  });
  await ctx.stack.mocks.run.script([
    { type: 'tool_calls', text: STREAMED, chunks: 10, delayMs: 250,
      calls: [{ id: 'call_hello', name: 'write_file', arguments: { path: 'hello.js', content: HELLO_JS } }] },
    { type: 'text', text: 'I created **hello.js** with `hello` and `shout`.' },
  ]);
  await ctx.stack.mocks.title.script([{ type: 'text', text: 'Hello module' }]);
  const samples = await recordReplies(page);
  await send(page, 'Write a hello module');
  await waitForText(assistant(page).last(), /processing/i, 'the reply to show it is processing');
  await waitForText(assistant(page).last(), /Sure\. I will write a small module/, 'the first streamed words');
  await pg.shot('streaming');
  const final = await waitForText(assistant(page).last(), /I created hello\.js/, 'the final text');
  await waitFor(async () => !/processing/i.test(await assistant(page).last().innerText()),
    { timeout: WAIT_MS, what: 'the status to leave processing' });
  assert.match(final, /Sure\. I will write a small module[\s\S]*I created hello\.js/);

  // Several distinct partial texts were shown while the reply was processing.
  const partial = (await samples()).filter((t) => /processing/i.test(t) && /Sure\./.test(t) && !t.includes('in your project while it answers'));
  assert.ok(partial.length >= 3, `at least 3 intermediate texts expected, saw ${partial.length}:\n${partial.join('\n---\n')}`);

  // The new file carries a marker in the tree until it is opened.
  const tree = page.getByRole('tree', { name: 'Files' });
  const item = tree.getByRole('treeitem', { name: 'hello.js' });
  await item.waitFor();
  assert.match(await changeMarker(item, 'hello.js'), /\w/, 'the tree item of a file the assistant wrote carries a marker');
  await pg.shot('file-marked');
  await tree.getByRole('treeitem', { name: 'src' }).click();
  await tree.getByRole('treeitem', { name: 'index.js' }).waitFor();
  await openFromTree(page, 'hello.js');
  await waitEditorText(page, HELLO_JS, 'hello.js in the editor');
  await waitFor(async () => (await changeMarker(item, 'hello.js')) === '',
    { timeout: WAIT_MS, what: 'the marker to go once the file is open' });
  await pg.shot('file-open');
  pg.assertNoErrors();
  await pg.close();
});

test('Stop cancels a slow reply; the article says cancelled', async () => {
  const pg = await ctx.open({ flow: '09' });
  const { page } = pg;
  const user = newUser('stopper');
  const { projectId, api } = await openProject(ctx, pg, user, 'Stop demo');
  await ctx.stack.mocks.run.script([{ type: 'text', text: words(80), chunks: 80, delayMs: 150 }]);
  await send(page, 'Count slowly');
  await waitForText(assistant(page).last(), /w3\b/, 'some streamed words');
  await page.getByRole('button', { name: 'Stop' }).click();
  const text = await waitForText(assistant(page).last(), /cancelled/i, 'the cancelled status');
  assert.ok(!text.includes('w79'), 'the reply stopped before its end');
  await page.getByRole('button', { name: 'Stop' }).waitFor({ state: 'detached' });
  await pg.shot('cancelled');

  const [conv] = (await api.get(`/api/projects/${projectId}/conversations`)).json;
  const msgs = (await api.get(`/api/conversations/${conv._id}/messages`)).json;
  assert.equal(msgs[msgs.length - 1].status, 'cancelled');
  pg.assertNoErrors();
  await pg.close();
});

test('a failing provider: the article says failed and shows the error', async () => {
  const pg = await ctx.open({ flow: '10' });
  const { page } = pg;
  const { projectId, api } = await openProject(ctx, pg, newUser('failer'), 'Failure demo');
  await ctx.stack.mocks.run.script([
    { type: 'fault', fault: 'http500', message: 'The mock provider is down', sticky: true },
  ]);
  await send(page, 'This will fail');
  const text = await waitForText(assistant(page).last(), /failed/i, 'the failed status');
  const [conv] = (await api.get(`/api/projects/${projectId}/conversations`)).json;
  const msgs = (await api.get(`/api/conversations/${conv._id}/messages`)).json;
  const doc = msgs[msgs.length - 1];
  assert.equal(doc.status, 'failed');
  assert.ok(doc.error && doc.error.trim(), `the message has an error: ${JSON.stringify(doc)}`);
  const shown = await waitForText(assistant(page).last(), new RegExp(doc.error.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').slice(0, 60)),
    'the error text in the article');
  assert.ok(shown.includes(doc.error), `the article shows the error "${doc.error}": ${text}`);
  await pg.shot('failed');
  pg.assertNoErrors();
  await pg.close();
});

// The first paragraph is an HTML block for Markdown; the others make the inline link and
// inline HTML go through the Markdown parser too.
const HOSTILE = [
  '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2"> [click](javascript:window.__pwned=3)',
  'A [click](javascript:window.__pwned=3) link, an <img src=x onerror="window.__pwned=6"> image ' +
    'and <a href="javascript:window.__pwned=4">raw</a> HTML.',
  '<iframe src="javascript:window.__pwned=5"></iframe>',
  '[data](data:text/html;base64,PHNjcmlwdD53aW5kb3cuX19wd25lZD03PC9zY3JpcHQ+)',
].join('\n\n');

test('hostile Markdown in a reply runs nothing', async () => {
  const pg = await ctx.open({ flow: '11' });
  const { page } = pg;
  await openProject(ctx, pg, newUser('hostile'), 'Hostile demo');
  await ctx.stack.mocks.run.script([{ type: 'text', text: HOSTILE, chunks: 4 }]);
  await send(page, 'Say something nasty');
  const reply = assistant(page).last();
  await waitForText(reply, /click/, 'the hostile reply');
  await waitFor(async () => !/processing/i.test(await reply.innerText()), { timeout: WAIT_MS, what: 'the reply to complete' });
  // Give an image error handler the chance to run.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 200))));
  assert.equal(await page.evaluate(() => window.__pwned), undefined, 'no injected script ran');
  const dom = await page.getByRole('log', { name: 'Messages' }).evaluate((log) => ({
    scripts: log.querySelectorAll('script').length,
    handlers: Array.from(log.querySelectorAll('*')).filter((el) => Array.from(el.attributes).some((a) => /^on/i.test(a.name))).length,
    iframes: log.querySelectorAll('iframe, object, embed').length,
    badHrefs: Array.from(log.querySelectorAll('[href], [src]'))
      .map((el) => el.getAttribute('href') || el.getAttribute('src'))
      .filter((v) => /^\s*(javascript|data:text\/html)/i.test(v)),
  }));
  assert.deepEqual(dom, { scripts: 0, handlers: 0, iframes: 0, badHrefs: [] }, 'the message DOM holds nothing active');
  await pg.shot('hostile');
  const res = await fetch(`${ctx.stack.url}/`);
  assert.match(res.headers.get('content-security-policy') || '', /script-src 'self'/);
  pg.assertNoErrors();
  await pg.close();
});

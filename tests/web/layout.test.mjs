// Flow 12: at 800 px wide the project page still offers the tree, the editor and the chat
// (visible, or reachable by scrolling), without sideways scrolling of the whole page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useStack, newUser, openProject, openFromTree, editor, waitEditorText } from './lib.mjs';

const ctx = useStack();

/** Scrolls the element into view and asserts it lies inside the viewport, at least minWidth wide. */
async function assertReachable(page, locator, what, minWidth) {
  await locator.scrollIntoViewIfNeeded();
  const box = await locator.boundingBox();
  assert.ok(box, `${what} is rendered`);
  const vp = page.viewportSize();
  assert.ok(box.width >= minWidth && box.height >= 20, `${what} is big enough to use: ${JSON.stringify(box)}`);
  assert.ok(box.x >= 0 && box.x + minWidth <= vp.width, `${what} is inside the viewport horizontally: ${JSON.stringify(box)}`);
  assert.ok(box.y < vp.height && box.y + Math.min(box.height, 20) > 0, `${what} is inside the viewport vertically: ${JSON.stringify(box)}`);
}

test('the project page at 800×800: tree, editor and chat are usable', async () => {
  const pg = await ctx.open({ flow: '12', width: 800, height: 800 });
  const { page } = pg;
  await openProject(ctx, pg, newUser('narrow'), 'Narrow demo', {
    'index.html': '<!doctype html>\n<title>Narrow</title>\n<script src="app.js"></script>\n',
    'app.js': "document.title = 'narrow';\n",
  });
  await openFromTree(page, 'app.js');
  await waitEditorText(page, "document.title = 'narrow';\n");
  await pg.shot('narrow');

  await assertReachable(page, page.getByRole('tree', { name: 'Files' }), 'the file tree', 150);
  await assertReachable(page, editor(page), 'the editor', 250);
  await assertReachable(page, page.getByRole('textbox', { name: 'Message' }), 'the message box', 200);
  await assertReachable(page, page.getByRole('button', { name: 'Send' }), 'the Send button', 40);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow} px at 800 px`);

  // Each pane works at this size: type in the editor, type a message.
  await editor(page).click();
  await page.keyboard.press('Control+End');
  await page.keyboard.type('// narrow edit');
  await waitEditorText(page, "document.title = 'narrow';\n// narrow edit");
  await page.getByRole('textbox', { name: 'Message' }).fill('hello from a narrow window');
  await pg.shot('narrow-used');
  pg.assertNoErrors();
  await pg.close();
});

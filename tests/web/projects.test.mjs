// Flows 2 and 3: creating a project from the home page and opening it; importing a zip (a
// nested folder, a binary file, a file over 1 MiB) into a new project.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { zipSync, strToU8 } from 'fflate';
import { useStack, waitForText, newUser, fileContent, projectIdOf } from './lib.mjs';

const ctx = useStack();

test('create a project: it appears as a link and opens', async () => {
  const pg = await ctx.open({ flow: '02' });
  const { page } = pg;
  await pg.signIn(newUser('creator'));
  await page.getByRole('button', { name: 'New project' }).click();
  await page.getByRole('textbox', { name: 'Project name' }).fill('Web test project');
  await pg.shot('name-form');
  await page.getByRole('button', { name: 'Create' }).click();
  const link = page.getByRole('link', { name: 'Web test project' });
  await link.waitFor();
  await pg.shot('project-listed');
  await link.click();
  await page.getByRole('tree', { name: 'Files' }).waitFor();
  await page.getByRole('textbox', { name: 'Message' }).waitFor();
  assert.match(page.url(), /\/projects\/[^/]+$/);
  await waitForText(page.locator('body'), /Web test project/, 'the project name on its page');
  await pg.shot('project-open');

  // The address is the project's: a reload lands on it again.
  await page.reload();
  await page.getByRole('tree', { name: 'Files' }).waitFor();
  pg.assertNoErrors();
  await pg.close();
});

const MAIN_JS = "import { greet } from './lib/util.js';\n\nconsole.log(greet('zip'));\n";
const UTIL_JS = "export const greet = (who) => `hello ${who}`;\n";
const README = '# Zipped\n\nImported by the browser tests.\n';

function sampleZip() {
  const big = strToU8('0123456789abcdef\n'.repeat(70_000)); // about 1.1 MiB
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52]);
  // Everything under one top folder, as GitHub's "Download ZIP" makes them.
  return zipSync({
    'zipped-main/README.md': strToU8(README),
    'zipped-main/src/main.js': strToU8(MAIN_JS),
    'zipped-main/src/lib/util.js': strToU8(UTIL_JS),
    'zipped-main/assets/logo.png': png,
    'zipped-main/data/huge.txt': big,
  });
}

test('import a zip: text files land in a new project, the binary and the >1 MiB file are reported skipped', async () => {
  const pg = await ctx.open({ flow: '03' });
  const { page } = pg;
  const user = newUser('importer');
  await pg.signIn(user);
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    page.getByRole('button', { name: 'Import zip' }).click(),
  ]);
  await chooser.setFiles({ name: 'zipped.zip', mimeType: 'application/zip', buffer: Buffer.from(sampleZip()) });
  const report = await waitForText(page.locator('body'), /Imported 3 files/i, 'the import report');
  assert.match(report, /huge\.txt/, 'the large file is named as skipped');
  assert.match(report, /logo\.png/, 'the binary file is named as skipped');
  assert.match(report, /1 MiB/i, 'the reason for the large file');
  await pg.shot('import-report');

  await page.getByRole('link', { name: 'zipped' }).click();
  const tree = page.getByRole('tree', { name: 'Files' });
  await tree.getByRole('treeitem', { name: 'README.md' }).waitFor();
  await tree.getByRole('treeitem', { name: 'src' }).click();
  await tree.getByRole('treeitem', { name: 'main.js' }).waitFor();
  await tree.getByRole('treeitem', { name: 'lib', exact: true }).click();
  await tree.getByRole('treeitem', { name: 'util.js' }).waitFor();
  assert.equal(await tree.getByRole('treeitem', { name: 'huge.txt' }).count(), 0);
  assert.equal(await tree.getByRole('treeitem', { name: 'logo.png' }).count(), 0);
  await pg.shot('imported-tree');

  const api = ctx.api(user);
  const projectId = projectIdOf(page);
  assert.equal(await fileContent(api, projectId, 'src/main.js'), MAIN_JS);
  assert.equal(await fileContent(api, projectId, 'src/lib/util.js'), UTIL_JS);
  assert.equal(await fileContent(api, projectId, 'README.md'), README);
  assert.equal(await fileContent(api, projectId, 'data/huge.txt'), undefined);
  pg.assertNoErrors();
  await pg.close();
});

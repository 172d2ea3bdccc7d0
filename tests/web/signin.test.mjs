// Flow 1: signing in — by the link `polaris serve` prints, by pasting a `polaris token`, and
// being sent back to sign-in (told why) when the stored token has expired.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeToken, polarisToken } from '../e2e/lib/server.mjs';
import { useStack, signInLink, waitForText, newUser } from './lib.mjs';

const ctx = useStack();
const nowSec = () => Math.floor(Date.now() / 1000);

test('the printed sign-in link signs in, leaves no token in the address bar, and survives a reload', async () => {
  const pg = await ctx.open({ flow: '01' });
  const { page } = pg;
  const link = await signInLink(ctx.stack);
  assert.match(link, new RegExp(`^${ctx.stack.url}/#token=[\\w-]+\\.[\\w-]+\\.[\\w-]+$`), link);
  await page.goto(link);
  await page.getByRole('button', { name: 'New project' }).waitFor();
  assert.ok(!page.url().includes('token'), `the token must leave the address bar: ${page.url()}`);
  assert.equal(await page.evaluate(() => location.hash), '');
  await pg.shot('home-after-link');

  await page.reload();
  await page.getByRole('button', { name: 'New project' }).waitFor();
  assert.equal(await page.getByRole('textbox', { name: 'Token' }).count(), 0, 'no sign-in form after reload');
  pg.assertNoErrors();
  await pg.close();
});

test('pasting a token from `polaris token` signs in as its user', async () => {
  const pg = await ctx.open({ flow: '01' });
  const { page } = pg;
  const user = newUser('bob');
  const token = await polarisToken({ user, dataDir: ctx.stack.dataDir, secret: ctx.stack.secret });
  await page.goto(ctx.stack.url);
  const box = page.getByRole('textbox', { name: 'Token' });
  await box.fill(token);
  await pg.shot('token-pasted');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'New project' }).waitFor();
  await waitForText(page.locator('body'), new RegExp(user), 'the signed-in user shown');
  await pg.shot('home-after-paste');
  pg.assertNoErrors();
  await pg.close();
});

test('an expired stored token returns to sign-in saying it expired', async () => {
  const pg = await ctx.open({ flow: '01' });
  const { page } = pg;
  await page.goto(ctx.stack.url);
  await page.getByRole('textbox', { name: 'Token' }).waitFor();
  const expired = ctx.token(newUser('late'), { iat: nowSec() - 7200, exp: nowSec() - 60 });
  await page.evaluate((t) => localStorage.setItem('polaris.token', t), expired);
  await page.reload();
  await page.getByRole('textbox', { name: 'Token' }).waitFor();
  await waitForText(page.locator('body'), /expired/i, 'an "expired" notice');
  await pg.shot('expired-stored');
  pg.assertNoErrors();
  await pg.close();
});

test('a session whose token expires while the page is open returns to sign-in', async () => {
  const pg = await ctx.open({ flow: '01' });
  const { page } = pg;
  const user = newUser('brief');
  await page.goto(`${ctx.stack.url}/#token=${ctx.token(user, { exp: nowSec() + 4 })}`);
  await page.getByRole('button', { name: 'New project' }).waitFor();
  await page.getByRole('textbox', { name: 'Token' }).waitFor({ timeout: 15_000 });
  await waitForText(page.locator('body'), /expired/i, 'an "expired" notice');
  await pg.shot('expired-live');
  pg.assertNoErrors();
  await pg.close();
});

test('a stored token the server refuses (another secret) returns to sign-in saying so', async () => {
  const pg = await ctx.open({ flow: '01' });
  const { page } = pg;
  await page.goto(ctx.stack.url);
  await page.getByRole('textbox', { name: 'Token' }).waitFor();
  // Well-formed and unexpired, so the page takes it; signed with a secret the server does not
  // have, so the sync socket's Authenticate is refused.
  const forged = makeToken(newUser('forger'), 'not-the-server-secret', { exp: nowSec() + 3600 });
  await page.evaluate((t) => localStorage.setItem('polaris.token', t), forged);
  await page.reload();
  await page.getByRole('textbox', { name: 'Token' }).waitFor({ timeout: 15_000 });
  await waitForText(page.locator('body'), /did not accept your token/i, 'a "refused" notice');
  assert.equal(await page.evaluate(() => localStorage.getItem('polaris.token')), null, 'the token is dropped');
  await pg.shot('refused-stored');
  pg.assertNoErrors();
  await pg.close();
});

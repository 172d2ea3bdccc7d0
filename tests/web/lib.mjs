// Harness for the browser tests: one polaris server whose AI provider is a small router in
// front of four scripted mock-llm instances, Debian's chromium driven by playwright-core,
// screenshots, console-error collection and bounded waits. Controls are found by role and
// accessible name only.
import assert from 'node:assert/strict';
import { before, after } from 'node:test';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, makeToken, client, REPO_ROOT, newUser } from '../e2e/lib/server.mjs';
import { startMock, waitFor } from '../e2e/lib/mock.mjs';

export { waitFor, makeToken, newUser, REPO_ROOT };

export const WAIT_MS = 15_000;
export const SCREENSHOT_DIR = path.resolve(REPO_ROOT, process.env.SCREENSHOT_DIR || 'build/web-screenshots');

// ---------------------------------------------------------------- the AI provider

// The server sends four kinds of chat requests to one provider. Each kind goes to its own
// mock so a test's script is never eaten by a background title or a ghost-text request.
function requestKind(body) {
  let msgs;
  try { msgs = JSON.parse(body.toString('utf8')).messages; } catch { return 'run'; }
  if (!Array.isArray(msgs)) return 'run';
  const text = (m) => (typeof m?.content === 'string' ? m.content : '');
  if (msgs.some((m) => m?.role === 'system' && /short, descriptive title/i.test(text(m)))) return 'title';
  const first = text(msgs.find((m) => m?.role === 'user'));
  if (first.startsWith('You are a code completion assistant')) return 'suggest';
  if (first.startsWith('You are a code editing assistant')) return 'edit';
  return 'run';
}

/** An HTTP proxy that forwards each chat request, streamed as it comes, to mocks[kind]. */
async function startProviderRouter(mocks) {
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const parts = [];
    req.on('data', (d) => parts.push(d));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      const target = new URL(mocks[requestKind(body)].base);
      const up = http.request({
        host: target.hostname, port: target.port, method: req.method, path: req.url,
        headers: { ...req.headers, host: target.host },
      }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
        // A mock that resets mid-stream must look like a reset to the server too.
        answer.on('aborted', () => res.destroy());
        answer.on('error', () => res.destroy());
      });
      up.on('error', () => res.destroy());
      // The server gave up (cancel, timeout): stop the mock's answer as well.
      res.on('close', () => { if (!res.writableFinished) up.destroy(); });
      up.end(body);
    });
  });
  server.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    v1: `http://127.0.0.1:${server.address().port}/v1`,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

// ---------------------------------------------------------------- server + mocks

/**
 * Starts the mocks (run, title, suggest, edit), the router and `polaris serve`. The page is the
 * one embedded in the binary unless POLARIS_WEB_DIR names a built folder.
 */
export async function startStack() {
  const stack = { mocks: {} };
  try {
    const kinds = ['run', 'title', 'suggest', 'edit'];
    const started = await Promise.all(kinds.map((k) => startMock(k)));
    kinds.forEach((k, i) => { stack.mocks[k] = started[i]; });
    stack.router = await startProviderRouter(stack.mocks);
    const args = process.env.POLARIS_WEB_DIR ? ['--web-dir', path.resolve(process.env.POLARIS_WEB_DIR)] : [];
    stack.server = await startServer({
      args,
      env: {
        OPENROUTER_API_KEY: 'web-tests', OPENROUTER_BASE_URL: stack.router.v1, CEREBRAS_API_KEY: undefined,
        // Every test provokes its own provider fault; no breaker may carry one to the next.
        POLARIS_BREAKER_COOLDOWN_MS: 1,
        // Typing asks for suggestions; the per-minute budgets must never be what a test meets.
        POLARIS_AI_CALLS_PER_MINUTE: 100_000,
        POLARIS_MESSAGES_PER_MINUTE: 100_000,
      },
    });
    stack.url = stack.server.url;
    stack.secret = stack.server.secret;
    stack.dataDir = stack.server.dataDir;
    await resetMocks(stack);
  } catch (e) {
    await stopStack(stack);
    throw e;
  }
  return stack;
}

/** Empties every mock's queue; ghost-text requests answer nothing unless a test says so. */
export async function resetMocks(stack) {
  await Promise.all(Object.values(stack.mocks).map((m) => m.reset()));
  await stack.mocks.suggest.script([{ type: 'text', text: '', sticky: true }]);
}

export async function stopStack(stack) {
  const errors = [];
  const attempt = async (fn) => { try { await fn(); } catch (e) { errors.push(e); } };
  if (stack.server) await attempt(() => stack.server.stop());
  if (stack.router) await attempt(() => stack.router.stop());
  await Promise.all(Object.values(stack.mocks).map((m) => attempt(() => m.stop())));
  if (errors.length) throw errors[0];
}

/** The printed sign-in link (`polaris sign-in: URL`), waiting for it if need be. */
export async function signInLink(stack) {
  const m = await waitFor(() => /polaris sign-in: (http:\/\/\S+)/.exec(stack.server.stdout),
    { timeout: 5_000, what: `the "polaris sign-in:" line; stdout so far: ${stack.server.stdout}` });
  return m[1];
}

/**
 * Per-file fixture: the stack and one browser, both stopped in after(). Tests open pages with
 * ctx.open(); every page's console errors are checked by the test itself (pg.assertNoErrors).
 */
export function useStack() {
  const ctx = { stack: null, browser: null };
  before(async () => {
    ctx.stack = await startStack();
    ctx.browser = await chromium.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      args: ['--no-sandbox'],
      headless: true,
    });
  });
  after(async () => {
    try {
      if (ctx.browser) await ctx.browser.close();
    } finally {
      if (ctx.stack) await stopStack(ctx.stack);
    }
  });
  ctx.token = (user, extra) => makeToken(user, ctx.stack.secret, extra);
  ctx.api = (user) => client(ctx.stack.server, ctx.token(user));
  ctx.resetMocks = () => resetMocks(ctx.stack);
  ctx.open = (opts) => openPage(ctx, opts);
  return ctx;
}

// ---------------------------------------------------------------- pages

// Screenshots are numbered per flow across the tests of a file.
const shotCounts = new Map();

/**
 * A fresh browser context and page. opts.flow names the screenshots ("04" → 04-1-slug.png);
 * opts.width/height set the viewport (1280×800).
 */
export async function openPage(ctx, { flow = 'xx', width = 1280, height = 800 } = {}) {
  const context = await ctx.browser.newContext({ viewport: { width, height } });
  await context.addInitScript(installEditorText);
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  const errors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push({ kind: 'console', text: msg.text(), url: msg.location()?.url || '' });
  });
  page.on('pageerror', (err) => errors.push({ kind: 'pageerror', text: String(err?.stack || err), url: '' }));
  const pg = {
    page, context, errors,
    /** Screenshot into SCREENSHOT_DIR/<flow>-<n>-<slug>.png. */
    async shot(slug) {
      const n = (shotCounts.get(flow) ?? 0) + 1;
      shotCounts.set(flow, n);
      fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
      const file = path.join(SCREENSHOT_DIR, `${flow}-${n}-${slug}.png`);
      await page.screenshot({ path: file });
      return file;
    },
    /** Asserts the page logged no console error and threw no uncaught error. */
    assertNoErrors() {
      assert.deepEqual(errors, [], `console/page errors:\n${errors.map((e) => `${e.kind}: ${e.text} ${e.url}`).join('\n')}`);
    },
    async close() { await context.close(); },
    /** Opens the page signed in as `user` through a sign-in link; resolves on the projects home. */
    async signIn(user) {
      await page.goto(`${ctx.stack.url}/#token=${ctx.token(user)}`);
      await page.getByRole('button', { name: 'New project' }).waitFor();
    },
  };
  return pg;
}

// ---------------------------------------------------------------- page helpers

/** Polls locator's text until re matches; returns the text. */
export async function waitForText(locator, re, what = String(re), timeout = WAIT_MS) {
  let last = '';
  try {
    return await waitFor(async () => {
      last = (await locator.count()) ? ((await locator.first().innerText().catch(() => '')) || '') : '';
      return re.test(last) ? last : null;
    }, { timeout, interval: 50, what });
  } catch (e) {
    e.message += `\nlast text: ${JSON.stringify(last.slice(0, 1500))}`;
    throw e;
  }
}

/** The accessible name of the element (from the ARIA snapshot: `- role "name"`). */
export async function accessibleName(locator) {
  const snap = await locator.ariaSnapshot();
  const m = /^- [\w-]+ "((?:[^"\\]|\\.)*)"/.exec(snap.trim());
  return m ? JSON.parse(`"${m[1]}"`) : '';
}

/**
 * How a tree item says "changed by the assistant": words beyond `name` in its accessible name,
 * or its accessible description (aria-description / aria-describedby). '' when unmarked.
 */
export async function changeMarker(item, name) {
  const extra = (await accessibleName(item)).replace(name, '').trim();
  const description = await item.evaluate((el) => {
    const ids = (el.getAttribute('aria-describedby') || '').split(/\s+/).filter(Boolean);
    return [el.getAttribute('aria-description') || '', ...ids.map((id) => document.getElementById(id)?.textContent || '')]
      .join(' ').trim();
  });
  return [extra, description].filter(Boolean).join(' ');
}

/** The project's editor (CodeMirror's content element, named "Editor"). */
export function editor(page) {
  return page.getByRole('textbox', { name: 'Editor' });
}

// Installed in every page: the text of a CodeMirror content element as its lines show it,
// ghost suggestions left out (they are not part of the document).
function installEditorText() {
  window.__editorText = (el) => Array.from(el.querySelectorAll(':scope > .cm-line')).map((line) => {
    const copy = line.cloneNode(true);
    for (const ghost of copy.querySelectorAll('.cm-ghostText')) ghost.remove();
    return copy.textContent;
  }).join('\n');
}

/** The editor's document text as rendered. */
export async function editorText(page) {
  return editor(page).evaluate((el) => window.__editorText(el));
}

/** Records every text the editor shows from now on; resolves a function returning the list. */
export async function recordEditorTexts(page) {
  await editor(page).evaluate((el) => {
    const seen = [window.__editorText(el)];
    window.__editorTexts = seen;
    new MutationObserver(() => {
      const t = window.__editorText(el);
      if (seen[seen.length - 1] !== t) seen.push(t);
    }).observe(el, { subtree: true, childList: true, characterData: true });
  });
  return () => page.evaluate(() => window.__editorTexts);
}

/** The save indicator reads `text` (e.g. "Saved"). */
export async function waitSaveStatus(page, text) {
  await page.getByRole('status').filter({ hasText: new RegExp(`^\\s*${text}\\s*$`) }).first().waitFor();
}

/** GET one file's content through the REST API (the ground truth the page must match). */
export async function fileContent(api, projectId, p) {
  const res = await api.get(`/api/projects/${projectId}/files/content?path=${encodeURIComponent(p)}`);
  return res.status === 200 ? res.json.content : undefined;
}

/** The project id from a /projects/:id address. */
export function projectIdOf(page) {
  const m = /\/projects\/([^/?#]+)/.exec(page.url());
  assert.ok(m, `not on a project page: ${page.url()}`);
  return decodeURIComponent(m[1]);
}

/**
 * Sets up a project through the API (name, {path: content} files), signs `user` in and opens
 * the project page; resolves {projectId} once the tree shows.
 */
export async function openProject(ctx, pg, user, name, files = {}) {
  const api = ctx.api(user);
  const created = await api.post('/api/projects', { name });
  assert.equal(created.status, 200, `create project: ${created.text}`);
  const { projectId } = created.json;
  for (const [p, content] of Object.entries(files)) {
    const res = await api.put(`/api/projects/${projectId}/files/content`, { path: p, content });
    assert.equal(res.status, 200, `write ${p}: ${res.text}`);
  }
  await pg.signIn(user);
  await pg.page.goto(`${ctx.stack.url}/projects/${encodeURIComponent(projectId)}`);
  await pg.page.getByRole('tree', { name: 'Files' }).waitFor();
  return { projectId, api };
}

/** Opens a file from the tree (a top-level one, or one in expanded folders) and waits for the editor. */
export async function openFromTree(page, name) {
  await page.getByRole('tree', { name: 'Files' }).getByRole('treeitem', { name }).click();
  await editor(page).waitFor();
}

/** Waits until the editor shows exactly `text`. */
export async function waitEditorText(page, text, what = 'the editor text') {
  let last;
  try {
    await waitFor(async () => {
      last = await editorText(page).catch(() => undefined);
      return last === text;
    }, { timeout: WAIT_MS, what });
  } catch (e) {
    e.message += `\nexpected: ${JSON.stringify(text)}\nshown:    ${JSON.stringify(last)}`;
    throw e;
  }
}

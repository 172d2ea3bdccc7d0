// The web page's budget (issue 10), measured with Debian's chromium through playwright-core:
//  1. bundle size: every file the build wrote, raw and gzipped (the .gz copies it serves);
//  2. cold navigation to a project page (50 files, a conversation with messages) until it is
//     interactive, against a cold navigation to /healthz in the same run;
//  3. frame rate, long tasks and reply updates while a reply streams at 50 tokens/s, against
//     the same counters on the idle page.
// Usage: node bench/web_page.mjs [navigations=15] [words=600]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from '../tests/web/node_modules/playwright-core/index.mjs';
import { startMock, startServer, token, request, percentile, sleep } from './lib.mjs';

const ROOT = new URL('..', import.meta.url).pathname;
const NAVS = Number(process.argv[2] ?? 15);
const WORDS = Number(process.argv[3] ?? 600);
const TOKEN_MS = 20; // 50 tokens/s
const BUDGET_GZ_BYTES = 350 * 1000;
const WAIT_MS = 20_000;

const round = (v, d = 1) => Math.round(v * 10 ** d) / 10 ** d;
const roundAll = (o) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, typeof v === 'number' ? round(v) : v]));

// ---------------------------------------------------------------- 1. bundle size

// The build CMake embeds (build/web/dist) if there is one; otherwise a fresh build of web/,
// which the server is then told to serve (--web-dir) so that the page measured is the one sized.
function bundle() {
  let dir = path.join(ROOT, 'build/web/dist');
  let source = 'build/web/dist (the embedded page)';
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    dir = '/tmp/bench-web-dist';
    execFileSync('node', [path.join(ROOT, 'web/build.mjs'), '--out', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
    source = `${dir} (build/web/dist absent: built by web/build.mjs and served with --web-dir)`;
  }
  const files = ['index.html', ...fs.readdirSync(path.join(dir, 'assets')).map((f) => `assets/${f}`)]
    .filter((f) => !f.endsWith('.gz'))
    .map((f) => ({
      file: f,
      raw: fs.statSync(path.join(dir, f)).size,
      gzip: fs.statSync(path.join(dir, f + '.gz')).size,
    }));
  // The first load is what index.html names (stylesheet, entry script, modulepreloads); the
  // other chunks (grammars, the diff view) load when first needed.
  const html = fs.readFileSync(path.join(dir, 'index.html'), 'utf8');
  const named = new Set(['index.html', ...[...html.matchAll(/(?:href|src)="\/(assets\/[^"]+)"/g)].map((m) => m[1])]);
  for (const f of files) f.firstLoad = named.has(f.file);
  const gzipTotal = files.reduce((s, f) => s + f.gzip, 0);
  const rawTotal = files.reduce((s, f) => s + f.raw, 0);
  const gzipFirstLoad = files.filter((f) => f.firstLoad).reduce((s, f) => s + f.gzip, 0);
  return { dir, source, files, rawTotal, gzipTotal, gzipFirstLoad, withinBudget: gzipFirstLoad <= BUDGET_GZ_BYTES };
}

// ---------------------------------------------------------------- fixtures

// 50 files: 10 at the root, 25 in src/, 10 in src/components/, 5 in tests/.
function projectFiles() {
  const body = (i) => `// file ${i}\nexport function f${i}(x) {\n  return x * ${i};\n}\n`.repeat(20);
  const paths = [
    ...Array.from({ length: 10 }, (_, i) => `file${i}.js`),
    ...Array.from({ length: 25 }, (_, i) => `src/module${i}.js`),
    ...Array.from({ length: 10 }, (_, i) => `src/components/widget${i}.js`),
    ...Array.from({ length: 5 }, (_, i) => `tests/test${i}.js`),
  ];
  const rootEntries = new Set(paths.map((p) => p.split('/')[0])).size;
  return { files: paths.map((p, i) => ({ path: p, content: body(i) })), rootEntries };
}

// ~WORDS words of prose in paragraphs, with one code block, as a reply would look.
function replyText(n) {
  const vocab = 'the server streams each token into the stored message and the page renders it as markdown while it grows'.split(' ');
  const words = Array.from({ length: n }, (_, i) => vocab[i % vocab.length]);
  const paras = [];
  for (let i = 0; i < words.length; i += 60) paras.push(words.slice(i, i + 60).join(' '));
  paras.splice(2, 0, '```js\nconst answer = compute(42);\nconsole.log(answer);\n```');
  return paras.join('\n\n');
}

async function ok(res, what) {
  if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

async function waitIdle(url, tok, conversationId) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const list = await ok(await request(`${url}/api/conversations/${conversationId}/messages`, 'GET', tok), 'messages');
    if (list.length && list.every((m) => m.status !== 'processing')) return list;
    if (Date.now() > deadline) throw new Error('a seeded reply did not finish');
    await sleep(50);
  }
}

async function seed(url, tok) {
  const { projectId } = await ok(await request(`${url}/api/projects`, 'POST', tok, { name: 'bench page' }), 'project');
  const { files, rootEntries } = projectFiles();
  for (const f of files) {
    await ok(await request(`${url}/api/projects/${projectId}/files/content`, 'PUT', tok, f), `PUT ${f.path}`);
  }
  // A titled conversation asks the provider for no title; the mock's default answer echoes.
  const { conversationId } = await ok(await request(`${url}/api/conversations`, 'POST', tok, { projectId, title: 'Bench chat' }), 'conversation');
  let messages = [];
  for (const text of ['What does module3 do?', 'Add a test for widget2, please.', 'Thanks, and explain file4.']) {
    await ok(await request(`${url}/api/messages`, 'POST', tok, { conversationId, message: text }), 'message');
    messages = await waitIdle(url, tok, conversationId);
  }
  return { projectId, conversationId, rootEntries, messageCount: messages.length };
}

// ---------------------------------------------------------------- 2. cold navigations

// Installed before the page's own scripts: records (ms since navigation start) the first frame
// in which the tree shows its root entries, the message box is enabled and the log shows every
// message.
function readyProbe({ rootEntries, messageCount }) {
  const ready = () => {
    const tree = document.querySelector('[role="tree"][aria-label="Files"]');
    const box = document.querySelector('textarea[aria-label="Message"]');
    const log = document.querySelector('[role="log"][aria-label="Messages"]');
    return !!tree && tree.querySelectorAll('[role="treeitem"]').length >= rootEntries &&
      !!box && !box.disabled && !!log && log.querySelectorAll('article').length >= messageCount;
  };
  const observer = new MutationObserver(() => {
    if (!ready()) return;
    observer.disconnect();
    requestAnimationFrame(() => { window.__readyMs = performance.now(); });
  });
  observer.observe(document, { childList: true, subtree: true, attributes: true });
}

async function coldNavigations(browser, url, tok, fx) {
  const init = `localStorage.setItem('polaris.token', ${JSON.stringify(tok)});`;
  const page = [];
  const healthz = [];
  for (let i = 0; i < NAVS; i++) {
    // Alternate so that drift on this noisy machine hits both series alike.
    for (const kind of ['page', 'healthz']) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      try {
        const p = await context.newPage();
        if (kind === 'page') {
          await context.addInitScript(init);
          await context.addInitScript(readyProbe, fx);
          await p.goto(`${url}/projects/${fx.projectId}`, { waitUntil: 'commit' });
          await p.waitForFunction(() => window.__readyMs !== undefined, null, { timeout: WAIT_MS });
          if (i === 0) await checkByRole(p, fx);
          const t = await p.evaluate(() => ({
            ready: window.__readyMs,
            dcl: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
            js: Math.max(...performance.getEntriesByType('resource').filter((e) => /\/assets\/(app|chunk)-.*\.js$/.test(e.name)).map((e) => e.responseEnd)),
          }));
          page.push(t);
        } else {
          await p.goto(`${url}/healthz`, { waitUntil: 'load' });
          // loadEventEnd is set just after the load event returns; wait for it.
          await p.waitForFunction(() => performance.getEntriesByType('navigation')[0].loadEventEnd > 0);
          healthz.push(await p.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd));
        }
      } finally {
        await context.close();
      }
    }
  }
  return { page, healthz };
}

// The probe's selectors are the accessible names the tests use; confirm once through them.
async function checkByRole(p, fx) {
  const items = await p.getByRole('tree', { name: 'Files' }).getByRole('treeitem').count();
  const enabled = await p.getByRole('textbox', { name: 'Message' }).isEnabled();
  const articles = await p.getByRole('log', { name: 'Messages' }).getByRole('article').count();
  if (items < fx.rootEntries || !enabled || articles < fx.messageCount) {
    throw new Error(`probe disagrees with roles: ${items} treeitems, box enabled ${enabled}, ${articles} articles`);
  }
}

// ---------------------------------------------------------------- 3. frames while streaming

// In the page: rAF timestamps, long tasks, and each distinct text of the newest reply.
function startCounters() {
  const c = { frames: [], longTasks: [], updates: [], stop: false, t0: performance.now() };
  const tick = (t) => { c.frames.push(t); if (!c.stop) requestAnimationFrame(tick); };
  requestAnimationFrame(tick);
  c.po = new PerformanceObserver((list) => { for (const e of list.getEntries()) c.longTasks.push([e.startTime - c.t0, e.duration]); });
  c.po.observe({ type: 'longtask' });
  const log = document.querySelector('[role="log"][aria-label="Messages"]');
  const newest = () => {
    const replies = log.querySelectorAll('article[aria-label="Assistant"]');
    return replies.length ? replies[replies.length - 1].textContent : '';
  };
  c.lastText = newest();
  c.mo = new MutationObserver(() => {
    const text = newest();
    if (text !== c.lastText) { c.lastText = text; c.updates.push(performance.now()); }
  });
  c.mo.observe(log, { childList: true, subtree: true, characterData: true });
  window.__counters = c;
}

function stopCounters() {
  const c = window.__counters;
  c.stop = true;
  c.po.disconnect();
  c.mo.disconnect();
  const t1 = performance.now();
  const secs = (t1 - c.t0) / 1000;
  const frames = c.frames.filter((t) => t >= c.t0 && t <= t1);
  // Frames in each whole second of the window; the worst one is what a user would notice.
  const perSecond = Array.from({ length: Math.floor(secs) }, (_, i) =>
    frames.filter((t) => t >= c.t0 + i * 1000 && t < c.t0 + (i + 1) * 1000).length);
  let maxGap = 0;
  for (let i = 1; i < frames.length; i++) maxGap = Math.max(maxGap, frames[i] - frames[i - 1]);
  return {
    seconds: secs,
    fpsMean: frames.length / secs,
    fpsWorstSecond: perSecond.length ? Math.min(...perSecond) : NaN,
    maxFrameGapMs: maxGap,
    longTasks: c.longTasks.length,
    longestTaskMs: c.longTasks.length ? Math.max(...c.longTasks.map(([, d]) => d)) : 0,
    // [ms after the counters started, duration ms]: to tell a slow first render from steady work.
    longTaskList: c.longTasks.map(([t, d]) => [Math.round(t), Math.round(d)]),
    updates: c.updates.length,
  };
}

async function streaming(browser, url, tok, mock, fx) {
  const words = replyText(WORDS).split(/\s+/).length;
  const r = await fetch(`${mock.url}/_mock/script`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reset: true, steps: [{ type: 'text', text: replyText(WORDS), chunks: words, delayMs: TOKEN_MS }] }),
  });
  if (!r.ok) throw new Error(`mock script: HTTP ${r.status} ${await r.text()}`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  try {
    await context.addInitScript(`localStorage.setItem('polaris.token', ${JSON.stringify(tok)});`);
    await context.addInitScript(readyProbe, fx);
    const p = await context.newPage();
    const errors = [];
    p.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    p.on('pageerror', (e) => errors.push(String(e)));
    await p.goto(`${url}/projects/${fx.projectId}`, { waitUntil: 'commit' });
    await p.waitForFunction(() => window.__readyMs !== undefined, null, { timeout: WAIT_MS });
    await sleep(500); // let the first render's work settle

    const box = p.getByRole('textbox', { name: 'Message' });
    await box.fill('Write me a long explanation.');
    await p.evaluate(startCounters);
    await box.press('Enter');
    // The reply is the article after the one holding the sent text; done once its status badge
    // is gone (a completed reply shows none).
    const reply = p.getByRole('log', { name: 'Messages' }).getByRole('article', { name: 'Assistant' }).nth(fx.messageCount / 2);
    await reply.waitFor({ timeout: WAIT_MS });
    await p.waitForFunction((n) => {
      const a = document.querySelectorAll('[role="log"] article[aria-label="Assistant"]')[n];
      return a && !/processing…|failed|cancelled/.test(a.querySelector('.chat-msg-head')?.textContent ?? '');
    }, fx.messageCount / 2, { polling: 200, timeout: WAIT_MS + WORDS * TOKEN_MS }); // not every frame: it would add work
    const stream = await p.evaluate(stopCounters);

    // Idle baseline: the same counters, the same length of time, nothing happening.
    await sleep(500);
    await p.evaluate(startCounters);
    await sleep(stream.seconds * 1000);
    const idle = await p.evaluate(stopCounters);
    const finalText = await reply.textContent();
    return { words, stream, idle, replyComplete: finalText.includes('console.log(answer)'), consoleErrors: errors };
  } finally {
    await context.close();
  }
}

// ---------------------------------------------------------------- main

const started = Date.now();
const size = bundle();
const mock = await startMock();
const server = await startServer(
  { OPENROUTER_API_KEY: 'x', OPENROUTER_BASE_URL: `${mock.url}/v1`, CEREBRAS_API_KEY: '' },
  size.dir.startsWith('/tmp/') ? ['--web-dir', size.dir] : [],
);
let browser;
try {
  const tok = token(server.secret, 'bench-web');
  const fx = await seed(server.url, tok);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox'], headless: true });
  const navs = await coldNavigations(browser, server.url, tok, fx);
  const stream = await streaming(browser, server.url, tok, mock, fx);

  const ready = navs.page.map((t) => t.ready);
  const hz = navs.healthz;
  const summary = {
    bundle: {
      source: size.source,
      files: size.files,
      rawTotal: size.rawTotal,
      gzipTotal: size.gzipTotal,
      gzipKB: round(size.gzipTotal / 1000),
      gzipFirstLoad: size.gzipFirstLoad,
      gzipFirstLoadKB: round(size.gzipFirstLoad / 1000),
      budgetKB: BUDGET_GZ_BYTES / 1000,
      withinBudget: size.withinBudget,
    },
    navigation: {
      n: NAVS,
      files: 50,
      messages: fx.messageCount,
      interactiveMs: { p50: round(percentile(ready, 50)), p90: round(percentile(ready, 90)), min: round(Math.min(...ready)), max: round(Math.max(...ready)) },
      // Where the time goes: the script downloaded, then run (DOMContentLoaded waits for it).
      scriptFetchedMs: { p50: round(percentile(navs.page.map((t) => t.js), 50)) },
      domContentLoadedMs: { p50: round(percentile(navs.page.map((t) => t.dcl), 50)) },
      healthzLoadMs: { p50: round(percentile(hz, 50)), p90: round(percentile(hz, 90)) },
      ratioP50: round(percentile(ready, 50) / percentile(hz, 50)),
      ratioP90: round(percentile(ready, 90) / percentile(hz, 90)),
    },
    streaming: {
      words: stream.words,
      tokensPerSecond: 1000 / TOKEN_MS,
      replyComplete: stream.replyComplete,
      consoleErrors: stream.consoleErrors,
      stream: roundAll(stream.stream),
      idle: roundAll(stream.idle),
      fpsRatio: round(stream.stream.fpsMean / stream.idle.fpsMean, 2),
      updatesPerSecond: round(stream.stream.updates / stream.stream.seconds),
    },
    runSeconds: round((Date.now() - started) / 1000),
  };
  console.log(JSON.stringify(summary));

  const b = summary.bundle;
  const n = summary.navigation;
  const s = summary.streaming;
  console.log(`\nbundle (${b.source}):`);
  for (const f of b.files) console.log(`  ${f.file.padEnd(28)} ${String(f.raw).padStart(9)} B raw ${String(f.gzip).padStart(8)} B gzip${f.firstLoad ? '  (first load)' : ''}`);
  console.log(`  first load gzip ${b.gzipFirstLoadKB} kB of ${b.budgetKB} kB budget: ${b.withinBudget ? 'within' : 'OVER'}; every file ${b.gzipKB} kB`);
  console.log(`cold navigation to a project page (${n.files} files, ${n.messages} messages), ${n.n} runs:`);
  console.log(`  interactive p50 ${n.interactiveMs.p50} ms, p90 ${n.interactiveMs.p90} ms (min ${n.interactiveMs.min}, max ${n.interactiveMs.max}); script fetched p50 ${n.scriptFetchedMs.p50} ms, DOMContentLoaded p50 ${n.domContentLoadedMs.p50} ms`);
  console.log(`  /healthz loaded p50 ${n.healthzLoadMs.p50} ms, p90 ${n.healthzLoadMs.p90} ms -> ratio ${n.ratioP50}x (p50), ${n.ratioP90}x (p90)`);
  console.log(`streaming ${s.words} words at ${s.tokensPerSecond} tokens/s (${s.stream.seconds} s), reply complete: ${s.replyComplete}, console errors: ${s.consoleErrors.length}:`);
  console.log(`  streaming: ${s.stream.fpsMean} fps mean, worst second ${s.stream.fpsWorstSecond}, longest frame gap ${s.stream.maxFrameGapMs} ms, ${s.stream.longTasks} long tasks (longest ${s.stream.longestTaskMs} ms), ${s.stream.updates} reply updates (${s.updatesPerSecond}/s)`);
  console.log(`  idle:      ${s.idle.fpsMean} fps mean, worst second ${s.idle.fpsWorstSecond}, longest frame gap ${s.idle.maxFrameGapMs} ms, ${s.idle.longTasks} long tasks (longest ${s.idle.longestTaskMs} ms)`);
  console.log(`  fps ratio streaming/idle ${s.fpsRatio}; run took ${summary.runSeconds} s`);
} finally {
  if (browser) await browser.close();
  await stop(server.proc);
  await stop(mock.proc);
  const args = server.proc.spawnargs;
  fs.rmSync(args[args.indexOf('--data-dir') + 1], { recursive: true, force: true });
  if (size.dir.startsWith('/tmp/')) fs.rmSync(size.dir, { recursive: true, force: true });
}

async function stop(proc) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

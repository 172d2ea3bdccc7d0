// make bench, part 4: every abuse at once against one server, while well-behaved clients keep
// working. bench/abuse.mjs runs one attack per server; this runs them TOGETHER:
//   idle       IDLE (10,000) TCP connections that never send a byte (re-opened when the server
//              drops them: it does after its 30 s read timeout)
//   slowloris  SLOW_HEADERS connections sending a request's headers one line every 2 s, never
//              finishing them (re-opened when dropped)
//   slow body  one signed-in user: 64 PUTs of a 500 KB file whose body trickles at 100 B/s, plus
//              16 more over the per-user in-flight limit (64); anonymous: 100 POST /api/projects
//              with a body (a route that needs a token) and 200 POSTs to an open route with a 60 KB
//              body, both trickled
//   ws readers non-reading sync WebSockets (2 users × 16) watching files:getFile of their
//              user's 512 KB file, which the attacker rewrites every 200 ms (socket paused)
//   ws queries a signed-in sync client adding 50 queries per ModifyQuerySet until it is closed
//              (the 256-query limit), then again, on a new socket
//   ws frames  a signed-in sync client sending Remove+Add toggles of a query as fast as its
//              socket takes them (reading every answer), and an anonymous one sending 70 KB frames
//              (over the 64 KiB anonymous frame limit) on new sockets
//   rate       one user POSTing /api/messages and /api/suggestion 200 times a second each
//              (20 and 60 a minute allowed)
// Well-behaved clients (a separate process, so their timings do not queue behind the attacker's
// event loop): "keep-alive" (GET /api/projects, every 5th a PUT of a small file, one
// keep-alive connection), "fresh" (GET /api/projects on a new connection each time) and
// "sync" (a sync WebSocket subscribed to projects:get sending a projects:rename Mutation,
// timed to its MutationResponse), each every 20 ms. Phases: baseline (nothing else running),
// attack, after (the attackers gone), cap (connections opened until the server refuses them,
// CAP_EXTRA past the cap, then released). The server's VmRSS is sampled every 250 ms and its
// /metrics (connections, limit hits) every second.
// The server runs with POLARIS_MAX_CONNECTIONS=CAP (default 11,500: the 10,000 idle ones plus
// the other attackers and the clients fit; every other limit at its default).
// Usage (the process needs ~12,000 descriptors: run-all.sh raises `ulimit -n`):
//   node bench/abuse_mix.mjs [--idle 10000] [--attack 40] [--baseline 8] [--after 8] [--cap 11500]
import { fork } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ROOT, startPolaris, token, api, percentile, fmt, fmt0, ratio, emitMarkdown, sleep, rssKb } from './runall_lib.mjs';

const { default: WebSocket } = await import(new URL('./node_modules/ws/wrapper.mjs', import.meta.url));
const SELF = fileURLToPath(import.meta.url);
const arg = (n, d) => { const i = process.argv.indexOf(`--${n}`); return i > 0 ? process.argv[i + 1] : d; };
const SYNC_PATH = '/api/1.48.0/sync';

// ================================================================== probe (well-behaved clients)

async function runProbe() {
  let cfg;
  let phase = 'setup';
  let stopped = false;
  const samples = []; // {client, phase, ms, ok, err}
  const rss = []; // {t, phase, kb}
  const metrics = []; // {t, phase, connections, hits:{}}
  const t0 = Date.now();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const metricsAgent = new http.Agent({ keepAlive: true, maxSockets: 1 }); // stays connected at the cap
  const req = (url, { method = 'GET', tok, body, keep, viaAgent }) => new Promise((resolve) => {
    const s = process.hrtime.bigint();
    const data = body === undefined ? undefined : JSON.stringify(body);
    const r = http.request(url, { method, agent: viaAgent ?? (keep ? agent : false), timeout: 5000, headers: { ...(tok ? { authorization: `Bearer ${tok}` } : {}), ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) } }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - s) / 1e6, body: b }));
      res.on('error', (e) => resolve({ status: 0, err: e.code || e.message, ms: Number(process.hrtime.bigint() - s) / 1e6 }));
    });
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', (e) => resolve({ status: 0, err: e.code || e.message, ms: Number(process.hrtime.bigint() - s) / 1e6 }));
    r.end(data);
  });
  const record = (client, r) => samples.push({ client, phase, ms: r.ms, ok: r.status === 200, err: r.status === 200 ? null : (r.status ? `HTTP ${r.status}` : r.err) });

  async function keepAliveClient() {
    const { tok, projectId } = cfg.users.keep;
    for (let i = 0; !stopped; i++) {
      const r = i % 5 === 4
        ? await req(`${cfg.url}/api/projects/${projectId}/files/content`, { method: 'PUT', tok, body: { path: 'notes.txt', content: `note ${i}` }, keep: true })
        : await req(`${cfg.url}/api/projects`, { tok, keep: true });
      record(i % 5 === 4 ? 'keep-alive PUT' : 'keep-alive GET', r);
      await sleep(20);
    }
  }
  async function freshClient() {
    const { tok } = cfg.users.fresh;
    while (!stopped) {
      record('fresh', await req(`${cfg.url}/api/projects`, { tok }));
      await sleep(20);
    }
  }
  async function syncClient() {
    const { tok, projectId } = cfg.users.sync;
    const { default: WS } = await import(new URL('./node_modules/ws/wrapper.mjs', import.meta.url));
    let requestId = 0;
    while (!stopped) {
      // (Re)connect; a refused or dropped socket counts as one failure and is retried.
      const ws = new WS(cfg.url.replace(/^http/, 'ws') + SYNC_PATH, { perMessageDeflate: false });
      const pending = new Map();
      let open = false;
      const opened = await new Promise((resolve) => {
        const t = setTimeout(() => resolve(false), 5000);
        ws.once('open', () => { clearTimeout(t); resolve(true); });
        ws.once('error', () => { clearTimeout(t); resolve(false); });
        ws.once('unexpected-response', () => { clearTimeout(t); resolve(false); });
      });
      if (!opened) { try { ws.terminate(); } catch { /* gone */ } samples.push({ client: 'sync', phase, ms: NaN, ok: false, err: 'connect failed' }); await sleep(200); continue; }
      open = true;
      ws.on('message', (d) => {
        let m; try { m = JSON.parse(d.toString()); } catch { return; }
        if (m.type === 'MutationResponse' && pending.has(m.requestId)) { pending.get(m.requestId)(m); pending.delete(m.requestId); }
      });
      ws.on('close', () => { open = false; for (const f of pending.values()) f(null); pending.clear(); });
      ws.on('error', () => {});
      ws.send(JSON.stringify({ type: 'Connect', sessionId: crypto.randomUUID(), connectionCount: 0, lastCloseReason: 'InitialConnect', clientTs: Date.now() }));
      ws.send(JSON.stringify({ type: 'Authenticate', baseVersion: 0, tokenType: 'User', value: tok }));
      ws.send(JSON.stringify({ type: 'ModifyQuerySet', baseVersion: 0, newVersion: 1, modifications: [{ type: 'Add', queryId: 0, udfPath: 'projects:get', args: [{}], journal: null }] }));
      while (!stopped && open) {
        const id = requestId++;
        const s = process.hrtime.bigint();
        const m = await new Promise((resolve) => {
          const t = setTimeout(() => { pending.delete(id); resolve(undefined); }, 5000);
          pending.set(id, (v) => { clearTimeout(t); resolve(v); });
          ws.send(JSON.stringify({ type: 'Mutation', requestId: id, udfPath: 'projects:rename', args: [{ id: projectId, name: `n${id % 1000}` }] }));
        });
        const ms = Number(process.hrtime.bigint() - s) / 1e6;
        samples.push({ client: 'sync', phase, ms, ok: Boolean(m?.success), err: m?.success ? null : (m === undefined ? 'timeout' : m === null ? 'closed' : `failed: ${String(m.result ?? m.errorMessage ?? '').slice(0, 60)}`) });
        await sleep(20);
      }
      try { ws.terminate(); } catch { /* gone */ }
    }
  }
  function sampleRss() {
    try { rss.push({ t: Date.now() - t0, phase, kb: rssKb(cfg.pid) }); } catch { rss.push({ t: Date.now() - t0, phase, kb: null }); }
  }
  async function sampleMetrics() {
    const r = await req(`${cfg.url}/metrics`, { viaAgent: metricsAgent });
    if (r.status !== 200) { metrics.push({ t: Date.now() - t0, phase, err: r.err ?? `HTTP ${r.status}` }); return; }
    const hits = {};
    for (const m of r.body.matchAll(/^polaris_limit_hits_total\{limit="([^"]+)"\} (\d+)/gm)) hits[m[1]] = Number(m[2]);
    const c = /^polaris_connections (\d+)/m.exec(r.body);
    metrics.push({ t: Date.now() - t0, phase, connections: c ? Number(c[1]) : null, hits });
  }

  process.on('message', async (msg) => {
    if (msg.cmd === 'init') {
      cfg = msg;
      sampleRss();
      setInterval(sampleRss, 250);
      setInterval(() => { sampleMetrics(); }, 1000);
      keepAliveClient(); freshClient(); syncClient();
      process.send({ event: 'ready' });
    } else if (msg.cmd === 'phase') {
      phase = msg.phase;
      sampleRss();
      process.send({ event: 'phased' });
    } else if (msg.cmd === 'stop') {
      stopped = true;
      sampleRss();
      await sampleMetrics();
      process.send({ event: 'summary', samples, rss, metrics });
      setTimeout(() => process.exit(0), 100);
    }
  });
}

// ================================================================== attacker

async function main() {
  const IDLE = Number(arg('idle', 10_000));
  const ATTACK_S = Number(arg('attack', 40));
  const BASE_S = Number(arg('baseline', 8));
  const AFTER_S = Number(arg('after', 8));
  const CAP = Number(arg('cap', 11_500));
  const CAP_EXTRA = 200;
  const SLOW_HEADERS = 500;

  const lim = fs.readFileSync('/proc/self/limits', 'utf8').match(/Max open files\s+(\d+)/);
  if (lim && Number(lim[1]) < CAP + CAP_EXTRA + 500) {
    console.error(`abuse_mix: this process may open ${lim[1]} descriptors; it needs ${CAP + CAP_EXTRA + 500} (raise ulimit -n)`);
    process.exit(2);
  }
  const srv = await startPolaris({ POLARIS_MAX_CONNECTIONS: String(CAP) });
  const port = srv.port;
  const srvLimits = fs.readFileSync(`/proc/${srv.pid}/limits`, 'utf8').match(/Max open files\s+(\d+)/)?.[1];
  const tok = (u) => token(srv.secret, u);
  const mkUser = async (name) => {
    const t = tok(name);
    const { projectId } = await api(srv.url, t, 'POST', '/api/projects', { name });
    return { tok: t, projectId, name };
  };
  const users = { keep: await mkUser('good-keepalive'), fresh: await mkUser('good-fresh'), sync: await mkUser('good-sync') };
  const wsUsers = [await mkUser('evil-ws-0'), await mkUser('evil-ws-1')];
  const BIG = 512 * 1024;
  for (const u of wsUsers) {
    const { fileId } = await api(srv.url, u.tok, 'PUT', `/api/projects/${u.projectId}/files/content`, { path: 'big.txt', content: 'a'.repeat(BIG) });
    u.fileId = fileId;
  }
  const slowUser = await mkUser('evil-slow');
  const floodUser = await mkUser('evil-flood');
  const rateUser = await mkUser('evil-rate');
  const { conversationId: rateConv } = await api(srv.url, rateUser.tok, 'POST', '/api/conversations', { projectId: rateUser.projectId, title: 'rate' });

  const probe = fork(SELF, ['--probe'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const fromProbe = (event) => new Promise((r) => { const f = (m) => { if (m.event === event) { probe.off('message', f); r(m); } }; probe.on('message', f); });
  const setPhase = async (p) => { const w = fromProbe('phased'); probe.send({ cmd: 'phase', phase: p }); await w; };
  const ready = fromProbe('ready');
  probe.send({ cmd: 'init', url: srv.url, pid: srv.pid, users });
  await ready;
  const started = Date.now();
  const log = (s) => console.error(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${s}`);

  await setPhase('baseline');
  log(`baseline ${BASE_S} s`);
  await sleep(BASE_S * 1000);

  // ---------------------------------------------------------------- the attack
  await setPhase('attack');
  let attacking = true;
  const stats = {
    idle: { opened: 0, reopened: 0, closedByServer: 0, refused503: 0, errors: 0, maxOpen: 0, lifetimesMs: [] },
    slowloris: { opened: 0, closedByServer: 0, lifetimesMs: [], answers: {} },
    slowBody: { answers: {}, closedWithoutAnswer: 0 },
    wsReaders: { opened: 0, closes: {}, rewrites: 0, rewriteErrors: {} },
    wsQueries: { sockets: 0, queriesSent: 0, closes: {} },
    wsFrames: { framesSent: 0, answers: 0, closes: {}, bigSockets: 0, bigCloses: {} },
    rate: { answers: {} },
  };
  const sockets = new Set();
  const bump = (o, k) => { o[k] = (o[k] || 0) + 1; };
  const srcAddr = (i) => `127.0.0.${2 + (i % 8)}`; // spread over source addresses: enough ephemeral ports

  // idle: IDLE connections, opened 500 at a time; each re-opened when the server drops it
  let idleOpen = 0;
  function openIdle(i) {
    if (!attacking) return;
    const s = net.connect({ host: '127.0.0.1', port, localAddress: srcAddr(i) });
    sockets.add(s);
    const opened = Date.now();
    let gotData = '';
    let connected = false;
    s.on('connect', () => { connected = true; idleOpen += 1; stats.idle.opened += 1; stats.idle.maxOpen = Math.max(stats.idle.maxOpen, idleOpen); });
    s.on('data', (d) => { gotData += d; });
    s.on('error', () => { stats.idle.errors += 1; });
    s.on('close', () => {
      sockets.delete(s);
      if (connected) idleOpen -= 1;
      if (!attacking) return;
      if (gotData.includes(' 503 ')) stats.idle.refused503 += 1;
      stats.idle.closedByServer += 1;
      stats.idle.lifetimesMs.push(Date.now() - opened);
      stats.idle.reopened += 1;
      setTimeout(() => openIdle(i), 100);
    });
  }
  (async () => { for (let i = 0; i < IDLE && attacking; i++) { openIdle(i); if (i % 500 === 499) await sleep(100); } log(`idle: ${IDLE} connections requested`); })();

  // slowloris: headers one line every 2 s
  function openSlowloris(i) {
    if (!attacking) return;
    const s = net.connect({ host: '127.0.0.1', port, localAddress: srcAddr(i + 3) });
    sockets.add(s);
    const opened = Date.now();
    let timer = null;
    let answer = '';
    s.on('connect', () => {
      stats.slowloris.opened += 1;
      s.write('GET /api/projects HTTP/1.1\r\nHost: x\r\n');
      timer = setInterval(() => { if (!s.destroyed) s.write(`X-Slow-${Math.random().toString(36).slice(2, 6)}: y\r\n`); }, 2000);
    });
    s.on('data', (d) => { answer += d; });
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      sockets.delete(s);
      if (!attacking) return;
      stats.slowloris.closedByServer += 1;
      stats.slowloris.lifetimesMs.push(Date.now() - opened);
      bump(stats.slowloris.answers, answer ? answer.split('\r\n')[0] : 'closed, no answer');
      setTimeout(() => openSlowloris(i), 100);
    });
  }
  for (let i = 0; i < SLOW_HEADERS; i++) openSlowloris(i);

  // slow bodies: trickled at 100 B/s; the answer (or the close) is recorded
  function slowBody(kind, method, path, tokv, length, i) {
    const s = net.connect({ host: '127.0.0.1', port, localAddress: srcAddr(i + 5) });
    sockets.add(s);
    let answer = '';
    let timer = null;
    s.on('connect', () => {
      s.write(`${method} ${path} HTTP/1.1\r\nHost: x\r\n${tokv ? `Authorization: Bearer ${tokv}\r\n` : ''}Content-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`);
      timer = setInterval(() => { if (!s.destroyed) s.write('a'.repeat(100)); }, 1000);
    });
    s.on('data', (d) => { answer += d; });
    s.on('error', () => {});
    s.on('close', () => {
      clearInterval(timer);
      sockets.delete(s);
      if (!attacking && !answer) return;
      bump(stats.slowBody.answers, `${kind}: ${answer ? answer.split('\r\n')[0] : 'closed without an answer'}`);
    });
  }
  for (let i = 0; i < 80; i++) slowBody('signed-in PUT', 'PUT', `/api/projects/${slowUser.projectId}/files/content`, slowUser.tok, 500_000, i);
  for (let i = 0; i < 100; i++) slowBody('anonymous POST /api/projects', 'POST', '/api/projects', null, 50_000, i);
  for (let i = 0; i < 200; i++) slowBody('anonymous POST /healthz', 'POST', '/healthz', null, 60_000, i);

  // sync sockets
  const wsUrl = srv.url.replace(/^http/, 'ws') + SYNC_PATH;
  const hello = (ws, t) => {
    ws.send(JSON.stringify({ type: 'Connect', sessionId: crypto.randomUUID(), connectionCount: 0, lastCloseReason: 'InitialConnect', clientTs: Date.now() }));
    if (t) ws.send(JSON.stringify({ type: 'Authenticate', baseVersion: 0, tokenType: 'User', value: t }));
  };
  const openWs = () => { const ws = new WebSocket(wsUrl, { perMessageDeflate: false, maxPayload: 256 * 1024 * 1024 }); sockets.add(ws); ws.on('error', () => {}); return ws; };
  const closeKey = (code, reason) => `${code} ${String(reason).split(':')[0].slice(0, 40)}`.trim();

  // non-reading readers of a 512 KB file that keeps changing (a paused client never reads the
  // server's close, so at the end the kernel's table tells which ones the server dropped)
  const readerPorts = [];
  for (const u of wsUsers) {
    for (let k = 0; k < 16; k++) {
      const ws = openWs();
      ws.on('open', () => {
        stats.wsReaders.opened += 1;
        readerPorts.push(ws._socket.localPort);
        hello(ws, u.tok);
        ws.send(JSON.stringify({ type: 'ModifyQuerySet', baseVersion: 0, newVersion: 1, modifications: [{ type: 'Add', queryId: 0, udfPath: 'files:getFile', args: [{ id: u.fileId }], journal: null }] }));
        setTimeout(() => ws._socket?.pause(), 50); // then never read again
      });
      ws.on('close', (code, reason) => { sockets.delete(ws); if (attacking) bump(stats.wsReaders.closes, closeKey(code, reason)); });
    }
  }
  (async () => {
    for (let i = 0; attacking; i++) {
      for (const u of wsUsers) {
        const r = await fetch(`${srv.url}/api/projects/${u.projectId}/files/content`, { method: 'PUT', headers: { authorization: `Bearer ${u.tok}`, 'content-type': 'application/json' }, body: JSON.stringify({ path: 'big.txt', content: String.fromCharCode(97 + (i % 26)).repeat(BIG) }) }).catch((e) => ({ status: e.message }));
        if (r.status === 200) stats.wsReaders.rewrites += 1; else bump(stats.wsReaders.rewriteErrors, String(r.status));
        await r.text?.().catch(() => {});
      }
      await sleep(200);
    }
  })();

  // subscription flood
  (async () => {
    while (attacking) {
      const ws = openWs();
      stats.wsQueries.sockets += 1;
      await new Promise((resolve) => {
        let qid = 0;
        let v = 0;
        let timer = null;
        ws.on('open', () => {
          hello(ws, floodUser.tok);
          timer = setInterval(() => {
            if (ws.readyState !== 1 || !attacking) return;
            const mods = Array.from({ length: 50 }, () => ({ type: 'Add', queryId: qid, udfPath: 'projects:getById', args: [{ id: `k${qid++}` }], journal: null }));
            ws.send(JSON.stringify({ type: 'ModifyQuerySet', baseVersion: v, newVersion: v + 1, modifications: mods }));
            v += 1;
            stats.wsQueries.queriesSent += 50;
          }, 20);
        });
        ws.on('close', (code, reason) => { clearInterval(timer); sockets.delete(ws); bump(stats.wsQueries.closes, closeKey(code, reason)); resolve(); });
        setTimeout(() => { try { ws.terminate(); } catch { /* gone */ } }, 10_000);
      });
      await sleep(50);
    }
  })();

  // frame flood (signed in, reading) and oversized frames (anonymous)
  (async () => {
    while (attacking) {
      const ws = openWs();
      await new Promise((resolve) => {
        let v = 0;
        let on = true;
        const pump = () => {
          if (ws.readyState !== 1 || !attacking) return;
          for (let k = 0; k < 50 && ws.bufferedAmount < (1 << 20); k++) {
            const mods = on ? [{ type: 'Remove', queryId: 1 }] : [{ type: 'Add', queryId: 1, udfPath: 'projects:get', args: [{}], journal: null }];
            on = !on;
            ws.send(JSON.stringify({ type: 'ModifyQuerySet', baseVersion: v, newVersion: v + 1, modifications: mods }));
            v += 1;
            stats.wsFrames.framesSent += 1;
          }
          setImmediate(pump);
        };
        ws.on('open', () => {
          hello(ws, floodUser.tok);
          ws.send(JSON.stringify({ type: 'ModifyQuerySet', baseVersion: v, newVersion: v + 1, modifications: [{ type: 'Add', queryId: 1, udfPath: 'projects:get', args: [{}], journal: null }] }));
          v += 1;
          on = true;
          pump();
        });
        ws.on('message', () => { stats.wsFrames.answers += 1; });
        ws.on('close', (code, reason) => { sockets.delete(ws); if (attacking) bump(stats.wsFrames.closes, closeKey(code, reason)); resolve(); });
      });
      await sleep(100);
    }
  })();
  (async () => {
    const big = JSON.stringify({ type: 'Event', eventType: 'x', event: 'b'.repeat(70 * 1024) });
    while (attacking) {
      const ws = openWs();
      stats.wsFrames.bigSockets += 1;
      await new Promise((resolve) => {
        ws.on('open', () => { hello(ws, null); ws.send(big); });
        ws.on('close', (code, reason) => { sockets.delete(ws); bump(stats.wsFrames.bigCloses, closeKey(code, reason)); resolve(); });
        setTimeout(() => { try { ws.terminate(); } catch { /* gone */ } }, 5000);
      });
      await sleep(50);
    }
  })();

  // per-user rates
  const rateAgent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const ratePost = (path, body) => new Promise((resolve) => {
    const data = JSON.stringify(body);
    const r = http.request(`${srv.url}${path}`, { method: 'POST', agent: rateAgent, timeout: 5000, headers: { authorization: `Bearer ${rateUser.tok}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => { let lim = ''; try { lim = JSON.parse(b).limit ?? ''; } catch { /* not JSON */ } bump(stats.rate.answers, `${path} ${res.statusCode}${lim ? ` ${lim}` : ''}`); resolve(); });
    });
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', (e) => { bump(stats.rate.answers, `${path} ${e.code || e.message}`); resolve(); });
    r.end(data);
  });
  (async () => {
    while (attacking) {
      await Promise.all([
        ratePost('/api/messages', { conversationId: rateConv, message: 'hi' }),
        ratePost('/api/suggestion', { fileName: 'a.js', code: 'let a = 1;', currentLine: 'let a = 1;', previousLines: '', textBeforeCursor: 'let a', textAfterCursor: ' = 1;', nextLines: '', lineNumber: 1 }),
      ]);
      await sleep(5);
    }
  })();

  const rssTimeline = [];
  for (let s = 0; s < ATTACK_S; s++) {
    await sleep(1000);
    if (s % 5 === 4) {
      const kb = srv.alive() ? rssKb(srv.pid) : null;
      rssTimeline.push(kb);
      log(`attack: ${idleOpen} idle open, ${sockets.size} attacker sockets, server RSS ${kb ? (kb / 1024).toFixed(0) : '—'} MiB`);
    }
    if (!srv.alive()) { log('SERVER DIED'); break; }
  }

  // ---------------------------------------------------------------- after
  stats.wsReaders.stillOpenAtEnd = serverSideEstablished(port, readerPorts);
  attacking = false;
  for (const s of sockets) { try { s.destroy ? s.destroy() : s.terminate(); } catch { /* gone */ } }
  sockets.clear();
  rateAgent.destroy();
  await setPhase('after');
  log(`attackers gone; after ${AFTER_S} s`);
  await sleep(AFTER_S * 1000);

  // ---------------------------------------------------------------- cap: fill to the connection limit and past it
  await setPhase('cap');
  const capSockets = [];
  const cap = { opened: 0, answered503: 0, closedOther: 0, firstRefusalAt: null };
  await new Promise((resolve) => {
    let i = 0;
    let done = false;
    const finish = () => { if (!done) { done = true; resolve(); } };
    const more = () => {
      for (let k = 0; k < 500 && i < CAP + CAP_EXTRA && srv.alive(); k++, i++) {
        const idx = i;
        const s = net.connect({ host: '127.0.0.1', port, localAddress: srcAddr(idx) });
        capSockets.push(s);
        let data = '';
        s.on('connect', () => { cap.opened += 1; });
        s.on('data', (d) => { data += d; });
        s.on('error', () => {});
        s.on('close', () => {
          if (data.includes(' 503 ') && data.includes('"limit":"connections"')) { cap.answered503 += 1; if (cap.firstRefusalAt === null) cap.firstRefusalAt = idx; } else cap.closedOther += 1;
        });
      }
      if (i < CAP + CAP_EXTRA) setTimeout(more, 100); else setTimeout(finish, 3000);
    };
    more();
  });
  log(`cap: ${cap.opened} connected, ${cap.answered503} refused with 503 connections`);
  for (const s of capSockets) s.destroy();
  await sleep(2000);
  const healthAfter = await fetch(`${srv.url}/healthz`).then((r) => r.status).catch((e) => e.message);
  await setPhase('end');
  await sleep(3000);

  const summaryP = fromProbe('summary');
  probe.send({ cmd: 'stop' });
  const { samples, rss, metrics } = await summaryP;
  const alive = srv.alive();
  const finalRss = alive ? rssKb(srv.pid) : null;
  await srv.stop();
  report({ IDLE, ATTACK_S, BASE_S, AFTER_S, CAP, CAP_EXTRA, SLOW_HEADERS, srvLimits, stats, cap, healthAfter, samples, rss, metrics, alive, finalRss, rssTimeline, BIG });
}

/** How many of the client ports still have an ESTABLISHED server side in /proc/net/tcp. */
function serverSideEstablished(serverPort, clientPorts) {
  const hex = (p) => p.toString(16).toUpperCase().padStart(4, '0');
  const want = new Set(clientPorts.map(hex));
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = fs.readFileSync(file, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 4 && f[1].endsWith(`:${hex(serverPort)}`) && want.has(f[2].split(':').at(-1)) && f[3] === '01') n += 1;
    }
  }
  return n;
}

// ================================================================== report

function report(R) {
  const { samples, rss, metrics, stats } = R;
  const mib = (kb) => (kb == null ? '—' : fmt0(kb / 1024));
  const phases = ['baseline', 'attack', 'after', 'cap'];
  const clients = ['keep-alive GET', 'keep-alive PUT', 'fresh', 'sync'];
  const st = (client, phase) => {
    const v = samples.filter((s) => s.client === client && s.phase === phase);
    const ok = v.filter((s) => s.ok).map((s) => s.ms);
    const fails = {};
    for (const s of v) if (!s.ok) fails[s.err] = (fails[s.err] || 0) + 1;
    return { n: v.length, ok: ok.length, p50: percentile(ok, 50), p99: percentile(ok, 99), max: ok.length ? Math.max(...ok) : NaN, fails };
  };
  const rssOf = (phase) => rss.filter((r) => r.phase === phase && r.kb != null).map((r) => r.kb);
  const last = (a) => a.at(-1);
  const baseKb = last(rssOf('baseline'));
  const peakKb = Math.max(...rssOf('attack'), 0);
  const afterKb = last(rssOf('after'));
  const capPeak = Math.max(...rssOf('cap'), 0);
  const endKb = R.finalRss ?? last(rssOf('end'));
  const hits0 = metrics.filter((m) => m.phase === 'baseline' && m.hits).at(-1)?.hits ?? {};
  const hitsAfter = metrics.filter((m) => m.phase === 'after' && m.hits).at(-1)?.hits ?? {};
  const hitsEnd = metrics.filter((m) => m.hits).at(-1)?.hits ?? {};
  const conns = (phase) => Math.max(0, ...metrics.filter((m) => m.phase === phase && m.connections != null).map((m) => m.connections));
  const range = (v) => (v.length ? `${fmt((Math.min(...v)) / 1000, 1)}–${fmt((Math.max(...v)) / 1000, 1)} s` : '—');

  let md = `### Abuse, all at once, with well-behaved clients (bench/abuse_mix.mjs)\n\n`;
  md += `\`node bench/abuse_mix.mjs --idle ${R.IDLE} --attack ${R.ATTACK_S} --cap ${R.CAP}\`: one server (\`POLARIS_MAX_CONNECTIONS=${R.CAP}\`, every other limit at its default; its descriptor limit ${R.srvLimits}), a baseline of ${R.BASE_S} s with only the well-behaved clients, then for ${R.ATTACK_S} s together: ${fmt0(R.IDLE)} idle TCP connections (re-opened when dropped), ${R.SLOW_HEADERS} slowloris connections (a header line every 2 s), 80 signed-in slow-body PUTs (64 allowed in flight per user) and 300 anonymous slow-body POSTs (100 B/s), 32 non-reading sync WebSockets watching a ${R.BIG / 1024} KB file rewritten every 200 ms, a subscription flood (50 queries per ModifyQuerySet), a frame flood (query toggles as fast as the socket takes them) and anonymous 70 KB frames, and one user posting messages and suggestions at ~200/s each. Then ${R.AFTER_S} s after the attackers left, then the connection cap: ${fmt0(R.CAP + R.CAP_EXTRA)} connections opened (${R.CAP_EXTRA} past the cap). Well-behaved clients, each every 20 ms from a separate process: **keep-alive** (GET /api/projects, every 5th request a PUT of a small file instead: a durable write, shown as its own row; one keep-alive connection), **fresh** (GET /api/projects on a new connection each time), **sync** (a sync WebSocket's projects:rename Mutation to its MutationResponse). Latency of successful requests; ratio = attack / baseline.\n\n`;
  md += `| client | baseline p50 / p99 | attack p50 / p99 / max | ratio p50 / p99 | failed during attack | after p50 / p99 | at the cap: failed / requests |\n| --- | --- | --- | --- | --- | --- | --- |\n`;
  for (const c of clients) {
    const b = st(c, 'baseline'); const a = st(c, 'attack'); const af = st(c, 'after'); const cp = st(c, 'cap');
    const failText = (s) => (Object.keys(s.fails).length ? Object.entries(s.fails).map(([k, n]) => `${n} ${k}`).join(', ') : '0');
    md += `| ${c} | ${fmt(b.p50, 2)} / ${fmt(b.p99, 2)} ms (${b.n}) | ${fmt(a.p50, 2)} / ${fmt(a.p99, 2)} / ${fmt(a.max, 0)} ms (${a.n}) | **${ratio(a.p50, b.p50, 1)} / ${ratio(a.p99, b.p99, 1)}** | ${failText(a)} | ${fmt(af.p50, 2)} / ${fmt(af.p99, 2)} ms (${af.n}) | ${failText(cp)} / ${cp.n} |\n`;
  }
  const attackFails = clients.reduce((n, c) => n + (st(c, 'attack').n - st(c, 'attack').ok), 0);
  md += `\n**Verdict:** server ${R.alive ? 'survived' : '**died**'}; well-behaved requests that failed during the attack: ${attackFails}; memory ${endKb != null && endKb < peakKb ? `given back (end ${mib(endKb)} MiB against a peak of ${mib(Math.max(peakKb, capPeak))} MiB and a baseline of ${mib(baseKb)} MiB)` : `**not given back** (end ${mib(endKb)} MiB, peak ${mib(peakKb)} MiB)`}. At the cap a new connection is refused with a 503 whoever opens it (there is no per-address limit: docs/security.md), so the client that opens a new connection per request is refused there too, by design.\n`;
  md += `\nServer: ${R.alive ? 'alive at the end' : '**died**'}; \`/healthz\` after the cap was released: ${R.healthAfter}. RSS (MiB): baseline ${mib(baseKb)} → attack peak ${mib(peakKb)} (every 5 s: ${R.rssTimeline.map(mib).join(', ')}) → ${R.AFTER_S} s after the attack ${mib(afterKb)} → at the cap ${mib(capPeak)} → end ${mib(endKb)}. Connections (\`polaris_connections\`, max per phase): attack ${fmt0(conns('attack'))}, cap ${fmt0(conns('cap'))}.\n\n`;
  const I = stats.idle; const S = stats.slowloris;
  const kv = (o) => Object.entries(o).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${n} × ${k}`).join('; ') || '—';
  md += `What the attackers saw:\n\n`;
  md += `- idle: ${fmt0(I.maxOpen)} open at most; ${fmt0(I.closedByServer)} dropped by the server (after ${range(I.lifetimesMs)}; ${I.refused503} of them with a 503), re-opened.\n`;
  md += `- slowloris: ${fmt0(S.opened)} opened; ${fmt0(S.closedByServer)} dropped by the server after ${range(S.lifetimesMs)}: ${kv(S.answers)}.\n`;
  md += `- slow bodies: ${kv(stats.slowBody.answers)}.\n`;
  md += `- non-reading WebSockets: ${stats.wsReaders.opened} opened, ${stats.wsReaders.rewrites} rewrites of the watched files; still open on the server's side when the attack ended: ${stats.wsReaders.stillOpenAtEnd} (the paused clients never read the server's close)${Object.keys(stats.wsReaders.rewriteErrors).length ? `; rewrite errors: ${kv(stats.wsReaders.rewriteErrors)}` : ''}.\n`;
  md += `- subscription flood: ${stats.wsQueries.sockets} sockets, ${fmt0(stats.wsQueries.queriesSent)} queries sent; closed: ${kv(stats.wsQueries.closes)}.\n`;
  md += `- frame flood: ${fmt0(stats.wsFrames.framesSent)} frames sent, ${fmt0(stats.wsFrames.answers)} frames received; closed: ${kv(stats.wsFrames.closes)}. Oversized anonymous frames: ${stats.wsFrames.bigSockets} sockets: ${kv(stats.wsFrames.bigCloses)}.\n`;
  md += `- rates: ${kv(stats.rate.answers)}.\n`;
  md += `- the cap: ${fmt0(R.cap.opened)} of ${fmt0(R.CAP + R.CAP_EXTRA)} connected, ${fmt0(R.cap.answered503)} answered \`503 {"error":"Too many connections","limit":"connections"}\` (the first at connection #${R.cap.firstRefusalAt ?? '—'}).\n`;
  const diff = (a, b) => Object.fromEntries(Object.keys({ ...a, ...b }).map((k) => [k, (a[k] ?? 0) - (b[k] ?? 0)]).filter(([, n]) => n));
  md += `- \`polaris_limit_hits_total\` during the attack: ${kv(diff(hitsAfter, hits0))}; during the cap phase: ${kv(diff(hitsEnd, hitsAfter))}.\n\n`;
  emitMarkdown(md);
  console.log(`JSON ${JSON.stringify({ bench: 'abuse_mix', stats: { ...stats, idle: { ...stats.idle, lifetimesMs: undefined }, slowloris: { ...stats.slowloris, lifetimesMs: undefined } }, cap: R.cap, rss, metrics: metrics.map((m) => ({ t: m.t, phase: m.phase, connections: m.connections })), alive: R.alive })}`);
}

if (process.argv[2] === '--probe') await runProbe();
else await main();

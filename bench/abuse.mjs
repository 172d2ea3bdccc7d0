// Abuse benchmarks (issue 9): each attack against a fresh server, with the server's memory and a
// well-behaved client's latency measured while it runs. Usage (after `cd tests/convex && npm ci`,
// which provides the `ws` package):
//   node bench/abuse.mjs <path-to-polaris-binary> [attack ...]
// Attacks (default: the first six, in this order):
//   mutation-log         unauthenticated sync client: 300 Mutation frames with a ~1 MB udfPath, a new
//                        Connect (new sessionId) before each; reconnects when the server closes
//   query-amplification  signed-in sync client adds 2,000 files:getFile queries of one 1 MB file in
//                        one ModifyQuerySet and never reads (socket paused), an Event frame every 5 s
//   tool-calls           one model step of 40 read_file calls on a 1 MB file (scripted mock provider)
//   listings             300 files of ~1 MB in one project, then 10 concurrent GET /api/projects/:id/files
//                        in a loop for 10 s
//   fd-exhaustion        server under `prlimit --nofile=256:256`, 400 idle TCP connections held for 5 s
//   clock                unauthenticated Connect with maxObservedTimestamp "//////////8=", then the ts a
//                        signed-in session's Transition carries
// Extra attacks (not in the default list):
//   query-amplification-256  as query-amplification with 256 queries, the most the limited server
//                        accepts in one session (its Transition would be ~256 MB)
//   listings-63          as listings with 63 files (within the limited server's default 64 MiB quota)
// Every attack runs on its own server (fresh data dir). While it runs, a separate process (so its
// timings do not queue behind the attacker's work in this one) samples the server's VmRSS every
// 100 ms and runs the bystander: another user doing GET /api/projects (or POST /api/projects for
// tool-calls, whose damage is to writes) in a loop, a new connection per request, 20 ms apart,
// 5 s timeout. Safety: an attack is stopped when the server's RSS passes 4 GiB (the server is
// killed) or when the server dies; both are reported as the attack's result.
// Output: one Markdown table row per attack, then one JSON line with every figure.
import { fork, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { token as signToken, percentile, sleep } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const MiB = 1024 * 1024;
const RSS_LIMIT_KB = 4 * 1024 * 1024; // 4 GiB
const DEFAULT_ATTACKS = ['mutation-log', 'query-amplification', 'tool-calls', 'listings', 'fd-exhaustion', 'clock'];

// ------------------------------------------------------------------------------------------------
// Probe process: RSS sampler + bystander. Forked with --probe; talks over IPC.

function runProbe() {
  let cfg = null;
  let phase = 'setup';
  const rss = { setup: [] };
  const samples = []; // {phase, ms, ok, status, error}
  let killed = null;
  let died = false;
  let stopped = false;
  const readRss = () => {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${cfg.pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0; // a zombie has no VmRSS
  };
  const sample = () => {
    if (died || killed) return;
    let kb;
    try { kb = readRss(); } catch { died = true; process.send({ event: 'died' }); return; }
    rss[phase].push(kb);
    if (kb > RSS_LIMIT_KB) {
      killed = kb;
      try { process.kill(cfg.pid, 'SIGKILL'); } catch { /* gone */ }
      process.send({ event: 'killed', rssKb: kb });
    }
  };

  const get = (url, tok, method = 'GET', body) => new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const data = body === undefined ? undefined : JSON.stringify(body);
    const req = http.request(url, {
      method, agent: false, timeout: 5000,
      headers: { authorization: `Bearer ${tok}`, ...(data ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data) } : {}) },
    }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
      res.on('error', (e) => resolve({ status: 0, error: e.code || e.message, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: e.code || e.message, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    if (data) req.write(data);
    req.end();
  });

  async function bystander() {
    let user = 0;
    let made = 0;
    let tok = signToken(cfg.secret, `bystander_${process.pid}_${user}`);
    if (cfg.mode === 'get') {
      // One project of its own, so the listing is a real (small) answer.
      for (let i = 0; i < 50 && !stopped; i++) {
        const r = await get(`${cfg.url}/api/projects`, tok, 'POST', { name: 'mine' });
        if (r.status === 200) break;
        await sleep(100);
      }
    }
    while (!stopped) {
      let r;
      if (cfg.mode === 'post') {
        // A new user every 50 projects: stays under the per-user project quota (100).
        if (made > 0 && made % 50 === 0) tok = signToken(cfg.secret, `bystander_${process.pid}_${++user}`);
        made += 1;
        r = await get(`${cfg.url}/api/projects`, tok, 'POST', { name: `p${made}` });
      } else {
        r = await get(`${cfg.url}/api/projects`, tok);
      }
      samples.push({ phase, ...r }); // counted in the phase in which it ended
      await sleep(20);
    }
  }

  process.on('message', (msg) => {
    if (msg.cmd === 'init') {
      cfg = msg;
      sample();
      setInterval(sample, 100);
      bystander();
      process.send({ event: 'ready' });
    } else if (msg.cmd === 'phase') {
      sample();
      phase = msg.phase;
      rss[phase] ??= [];
    } else if (msg.cmd === 'stop') {
      stopped = true;
      sample();
      const stats = (during) => {
        const ok = during.filter((s) => s.status === 200);
        const lat = ok.map((s) => s.ms);
        const failures = during.filter((s) => s.status !== 200);
        const failureKinds = {};
        for (const f of failures) { const k = f.status ? `HTTP ${f.status}` : f.error; failureKinds[k] = (failureKinds[k] || 0) + 1; }
        return {
          requests: during.length, ok: ok.length, failed: failures.length, failureKinds,
          p50: percentile(lat, 50), p99: percentile(lat, 99), max: lat.length ? Math.max(...lat) : NaN,
          // every answer, whatever its status (a quick 503 is an answer; a timeout is not)
          answeredMaxMs: Math.max(0, ...during.filter((s) => s.status).map((s) => s.ms)),
        };
      };
      const phases = [...new Set(samples.map((s) => s.phase))];
      const byPhase = Object.fromEntries(phases.map((p) => [p, stats(samples.filter((s) => s.phase === p))]));
      const all = Object.values(rss).flat();
      process.send({
        event: 'summary',
        rss: {
          baselineKb: rss.setup.at(-1) ?? null,
          peakKb: Math.max(0, ...Object.entries(rss).filter(([p]) => p !== 'setup').flatMap(([, v]) => v)),
          endKb: all.at(-1) ?? null,
          samples: all.length,
        },
        bystander: stats(samples.filter((s) => s.phase === 'attack')),
        bystanderByPhase: byPhase,
        killed, died,
      });
      setTimeout(() => process.exit(0), 50);
    }
  });
}

function startProbe(srv, mode) {
  const child = fork(SELF, ['--probe'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const probe = { child, killed: null, died: false };
  let onSummary;
  const summary = new Promise((r) => { onSummary = r; });
  const ready = new Promise((resolve) => {
    child.on('message', (m) => {
      if (m.event === 'ready') resolve();
      else if (m.event === 'killed') probe.killed = m.rssKb;
      else if (m.event === 'died') probe.died = true;
      else if (m.event === 'summary') onSummary(m);
    });
  });
  child.send({ cmd: 'init', pid: srv.pid, url: srv.url, secret: srv.secret, mode });
  probe.ready = ready;
  probe.phase = (p) => child.send({ cmd: 'phase', phase: p });
  probe.stop = () => { child.send({ cmd: 'stop' }); return summary; };
  return probe;
}

// ------------------------------------------------------------------------------------------------
// Server and helpers.

async function startPolaris(bin, { env = {}, nofile } = {}) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'polaris-abuse-'));
  const dbPath = path.join(dataDir, 'polaris.db');
  const secret = crypto.randomBytes(16).toString('hex');
  const scrubbed = { ...process.env };
  for (const k of Object.keys(scrubbed)) if (/^(OPENROUTER_|CEREBRAS_|POLARIS_)|^PORT$/.test(k)) delete scrubbed[k];
  const args = ['serve', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir, '--db', `sqlite:${dbPath}`];
  // prlimit sets the limits on itself, then execs the server (same pid).
  const [cmd, argv] = nofile ? ['prlimit', [`--nofile=${nofile}:${nofile}`, bin, ...args]] : [bin, args];
  const proc = spawn(cmd, argv, { env: { ...scrubbed, POLARIS_JWT_SECRET: secret, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { stderr = (stderr + d).slice(-20_000); });
  const exited = new Promise((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 15_000);
    proc.stdout.setEncoding('utf8');
    proc.stdout.on('data', (d) => {
      out += d;
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    exited.then(({ code, signal }) => { clearTimeout(timer); reject(new Error(`server exited before listening (${code ?? signal}): ${stderr}`)); });
  });
  const srv = {
    proc, pid: proc.pid, port, url: `http://127.0.0.1:${port}`, secret, dataDir, dbPath, exited,
    get stderr() { return stderr; },
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async stop() {
      if (srv.alive()) {
        proc.kill('SIGTERM');
        const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return srv;
}

function cpuTicks(pid) {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in 1/100 s
}


/** One HTTP request on a new connection; resolves {status, ms, error} (timeout in ms). */
function once(url, { timeout = 2000, method = 'GET' } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const req = http.request(url, { method, agent: false, timeout }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, ms: Date.now() - t0 }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => resolve({ status: 0, error: e.message, ms: Date.now() - t0 }));
    req.end();
  });
}

const mb = (kb) => (kb == null ? '—' : `${(kb / 1024).toFixed(0)}`);
const fmtMs = (v) => (Number.isFinite(v) ? (v < 10 ? v.toFixed(1) : v.toFixed(0)) : '—');

// ------------------------------------------------------------------------------------------------
// The attacks. Each: {bystander: 'get'|'post', env?, nofile?, mock?, setup?(ctx), attack(ctx)}
// attack returns {figure: short text for the table, ...details}.

const ONE_MB = 1_000_000;

function defineAttacks(L) {
  const { openSync, connectMsg, decodeTs, client, makeToken } = L;
  const userClient = (srv, label) => client(srv, makeToken(`${label}_${crypto.randomBytes(4).toString('hex')}`, srv.secret));
  const expect200 = (res, what) => {
    if (res.status !== 200) throw new Error(`${what}: HTTP ${res.status} ${String(res.text).slice(0, 300)}`);
    return res.json;
  };
  const add = (queryId, udfPath, args) => ({ type: 'Add', queryId, udfPath, args: [args], journal: null });

  const HOLD_MS = 35_000; // past the limited server's 30 s write timeout
  async function queryAmplification(ctx, queries) {
    const { srv } = ctx;
    const u = userClient(srv, 'amp');
    const projectId = expect200(await u.post('/api/projects', { name: 'amp' }), 'create project').projectId;
    const fileId = expect200(await u.put(`/api/projects/${projectId}/files/content`, { path: 'big.txt', content: 'a'.repeat(ONE_MB) }), 'PUT 1 MB').fileId;
    return async () => {
      const conn = await openSync(srv);
      conn.ws._socket.pause(); // never reads
      const clientPort = conn.ws._socket.localPort;
      conn.send(connectMsg(crypto.randomUUID()));
      conn.send({ type: 'Authenticate', baseVersion: 0, tokenType: 'User', value: u.token });
      const qs = { type: 'ModifyQuerySet', baseVersion: 0, newVersion: 1, modifications: Array.from({ length: queries }, (_, i) => add(i, 'files:getFile', { id: fileId })) };
      const qsText = JSON.stringify(qs);
      conn.send(qsText);
      const t0 = Date.now();
      let droppedAfter = null;
      let events = 0;
      let sendErrors = 0;
      let txMax = 0; // the server's unsent bytes in its kernel socket buffer (tx_queue)
      while (Date.now() - t0 < HOLD_MS && !ctx.aborted()) {
        if ((Date.now() - t0) >= events * 5000) {
          events += 1;
          try { conn.ws.send(JSON.stringify({ type: 'Event', eventType: 'keepalive', event: { at: Date.now() } }), (e) => { if (e) sendErrors += 1; }); } catch { sendErrors += 1; }
        }
        const tcp = L.serverSideTcp(srv.port, clientPort);
        if (tcp) txMax = Math.max(txMax, tcp.txQueue);
        if (droppedAfter === null && (!tcp || tcp.state !== '01')) droppedAfter = Date.now() - t0;
        await sleep(100);
      }
      // Read what is there: a close frame, or the start of an oversized frame (the ws client
      // refuses frames over 100 MiB on their header, without buffering them).
      conn.ws._socket.resume();
      await conn.waitClosed(3000);
      const closed = conn.closed ? `${conn.closed.code} ${conn.closed.reason.slice(0, 60)}` : 'open';
      conn.ws.terminate();
      const figure = (droppedAfter === null
        ? `TCP still open after ${HOLD_MS / 1000} s (${events} Events sent)`
        : `TCP dropped by the server after ${(droppedAfter / 1000).toFixed(1)} s`) +
        `; server socket send queue max ${(txMax / 1e6).toFixed(2)} MB; on reading: ${closed}`;
      return { figure, querySetBytes: qsText.length, droppedAfterMs: droppedAfter, closed, events, sendErrors, serverTxQueueMaxBytes: txMax };
    };
  }

  /** One project of `count` files of ~1 MB (three uploads at a time). */
  async function uploadFiles(ctx, count) {
    const { srv } = ctx;
    const u = userClient(srv, 'lists');
    const projectId = expect200(await u.post('/api/projects', { name: 'lists' }), 'create project').projectId;
    const body = (i) => String.fromCharCode(97 + (i % 26)).repeat(ONE_MB - 8) + String(i).padStart(8, '0');
    let next = 0;
    const worker = async () => {
      while (next < count && !ctx.aborted()) {
        const i = next++;
        expect200(await u.put(`/api/projects/${projectId}/files/content`, { path: `f${String(i).padStart(3, '0')}.txt`, content: body(i) }, { timeout: 60_000 }), `PUT file ${i}`);
      }
    };
    await Promise.all([worker(), worker(), worker()]);
    Object.assign(ctx, { u, projectId });
  }

  /** 10 concurrent GET /api/projects/:id/files loops for 10 s; bodies are counted, not kept. */
  async function listingLoops(ctx) {
    const { srv, u, projectId } = ctx;
    const url = `${srv.url}/api/projects/${projectId}/files`;
    const t0 = Date.now();
    const done = [];
    const errors = {};
    const live = new Set();
    const one = () => new Promise((resolve) => {
      const s = Date.now();
      let bytes = 0;
      const req = http.get(url, { agent: false, headers: { authorization: `Bearer ${u.token}` } }, (res) => {
        res.on('data', (d) => { bytes += d.length; });
        res.on('end', () => { live.delete(req); resolve({ status: res.statusCode, bytes, ms: Date.now() - s }); });
        res.on('error', (e) => { live.delete(req); resolve({ status: 0, error: e.message, bytes, ms: Date.now() - s }); });
      });
      live.add(req);
      req.on('error', (e) => { live.delete(req); resolve({ status: 0, error: e.message, bytes, ms: Date.now() - s }); });
    });
    const loop = async () => {
      while (Date.now() - t0 < 10_000 && !ctx.aborted()) {
        const r = await one();
        if (r.status === 200) done.push(r); else errors[r.status ? `HTTP ${r.status}` : r.error] = (errors[r.status ? `HTTP ${r.status}` : r.error] || 0) + 1;
      }
    };
    // In-flight listings get 15 s past the 10 s window, then are cut off.
    const cut = setTimeout(() => { for (const r of live) r.destroy(new Error('cut off after 25 s')); }, 25_000);
    await Promise.all(Array.from({ length: 10 }, loop));
    clearTimeout(cut);
    const avgBytes = done.length ? done.reduce((s, r) => s + r.bytes, 0) / done.length : 0;
    const lat = done.map((r) => r.ms);
    const errText = Object.entries(errors).map(([k, n]) => `${n} ${k}`).join(', ');
    const figure = `${done.length} listings in ${((Date.now() - t0) / 1000).toFixed(1)} s, ${(avgBytes / 1e6).toFixed(3)} MB each, p50 ${fmtMs(percentile(lat, 50))} ms${errText ? `; failed: ${errText}` : ''}`;
    return { figure, listings: done.length, avgBytes, listingP50Ms: percentile(lat, 50), listingMaxMs: lat.length ? Math.max(...lat) : null, errors };
  }

  return {
    'mutation-log': {
      bystander: 'get',
      async attack(ctx) {
        const { srv } = ctx;
        const pad = 'm'.repeat(ONE_MB); // the frame stays under the 1 MiB frame limit of both binaries
        let conn = null;
        let sockets = 0;
        const answers = {};
        let echoedBytes = 0;
        let sent = 0;
        for (let i = 0; i < 300 && !ctx.aborted(); i++) {
          if (!conn || conn.closed) { conn = await openSync(srv); sockets += 1; }
          conn.send(connectMsg(crypto.randomUUID()));
          conn.send({ type: 'Mutation', requestId: i, udfPath: `${pad}:f${i}`, args: [{}] });
          sent += 1;
          const r = await conn.settle(15_000);
          if (r.message) {
            conn.inbox.shift();
            const kind = r.message.type === 'MutationResponse' ? `MutationResponse(success:${r.message.success})` : r.message.type;
            answers[kind] = (answers[kind] || 0) + 1;
            echoedBytes = Math.max(echoedBytes, JSON.stringify(r.message).length);
            if (r.message.type === 'FatalError') await conn.waitClosed(5000);
          } else if (r.closed) {
            answers[`closed ${r.closed.code}`] = (answers[`closed ${r.closed.code}`] || 0) + 1;
          } else {
            answers.timeout = (answers.timeout || 0) + 1;
          }
          conn.all = []; // keep this process small
        }
        if (conn) await conn.close();
        const kinds = Object.entries(answers).map(([k, n]) => `${n} ${k}`).join(', ');
        return { figure: `${sent} frames on ${sockets} socket(s): ${kinds}; largest answer ${(echoedBytes / 1e6).toFixed(2)} MB`, sent, sockets, answers, largestAnswerBytes: echoedBytes };
      },
    },

    'query-amplification': {
      bystander: 'get',
      async setup(ctx) { ctx.run = await queryAmplification(ctx, 2000); },
      attack: (ctx) => ctx.run(),
    },

    'query-amplification-256': {
      bystander: 'get',
      async setup(ctx) { ctx.run = await queryAmplification(ctx, 256); },
      attack: (ctx) => ctx.run(),
    },

    'tool-calls': {
      bystander: 'post',
      mock: true,
      async setup(ctx) {
        const { srv } = ctx;
        const u = userClient(srv, 'tools');
        const projectId = expect200(await u.post('/api/projects', { name: 'tools' }), 'create project').projectId;
        const conversationId = expect200(await u.post('/api/conversations', { projectId, title: 'tools' }), 'create conversation').conversationId;
        expect200(await u.put(`/api/projects/${projectId}/files/content`, { path: 'big.txt', content: 'r'.repeat(ONE_MB) }), 'PUT 1 MB');
        await ctx.mock.script([
          // Distinct (ignored) "part" arguments: the repeated-call guard (3 identical calls) stays out of it.
          { type: 'tool_calls', text: 'Reading.', calls: Array.from({ length: 40 }, (_, i) => ({ id: `rf_${i}`, name: 'read_file', arguments: { path: 'big.txt', part: i } })) },
          { type: 'text', text: 'Done.' },
        ]);
        Object.assign(ctx, { u, conversationId });
      },
      async attack(ctx) {
        const { srv, u, conversationId } = ctx;
        const size = (p) => { try { return fs.statSync(p).size; } catch { return 0; } };
        const dbBytes = () => size(srv.dbPath) + size(`${srv.dbPath}-wal`);
        const base = dbBytes();
        let peak = base;
        const t0 = Date.now();
        const posted = expect200(await u.post('/api/messages', { conversationId, message: 'read big.txt forty times' }), 'POST /api/messages');
        let run = null;
        let finalMs = null;
        while (Date.now() - t0 < 90_000 && !ctx.aborted()) {
          peak = Math.max(peak, dbBytes());
          const r = await u.get(`/api/runs/${posted.runId}`, { timeout: 10_000 }).catch(() => null);
          if (r && r.status === 200) {
            run = r.json;
            if (['completed', 'failed', 'cancelled'].includes(run.status)) { finalMs = Date.now() - t0; break; }
          }
          await sleep(100);
        }
        let message = null;
        if (finalMs !== null) {
          const list = await u.get(`/api/conversations/${conversationId}/messages`, { timeout: 30_000 }).catch(() => null);
          message = list?.json?.find?.((m) => m._id === posted.messageId) ?? null;
        }
        await sleep(1500); // the WAL may be cut back when writes go idle
        peak = Math.max(peak, dbBytes());
        const end = dbBytes();
        const reqs = await ctx.mock.requests().catch(() => []);
        const runReqs = reqs.filter((r) => !(r.body?.messages ?? []).some((m) => m.role === 'system' && /short, descriptive title/i.test(String(m.content))));
        const reqSizes = runReqs.map((r) => JSON.stringify(r.body).length);
        const calls = message?.toolCalls ?? [];
        const ran = calls.filter((c) => c.result?.success === true).length;
        const storedMax = Math.max(0, ...calls.map((c) => JSON.stringify(c.result ?? null).length));
        const growthMB = (peak - base) / MiB;
        const figure = finalMs === null
          ? `not final after ${((Date.now() - t0) / 1000).toFixed(0)} s; db+WAL +${growthMB.toFixed(0)} MiB`
          : `final (${run.status}) after ${(finalMs / 1000).toFixed(1)} s; db+WAL +${growthMB.toFixed(0)} MiB peak, +${((end - base) / MiB).toFixed(0)} MiB end; ${ran}/${calls.length} calls ran; next provider request ${reqSizes[1] === undefined ? 'not received by the provider' : `${(reqSizes[1] / 1e6).toFixed(2)} MB`}${run.status === 'failed' ? ` (error: ${String(run.error ?? message?.error).slice(0, 80)})` : ''}`;
        return { figure, finalMs, runStatus: run?.status, runError: run?.error, messageStatus: message?.status, messageError: message?.error, dbBaseBytes: base, dbPeakBytes: peak, dbEndBytes: end, callsRecorded: calls.length, callsRan: ran, largestStoredResultBytes: storedMax, providerRequestBytes: reqSizes };
      },
    },

    listings: {
      bystander: 'get',
      // The limited server's default project quota is 64 MiB: raised so that the same 300 MB fit
      // and the listing itself is what is measured (the older binary ignores these).
      env: { POLARIS_MAX_PROJECT_BYTES: '400000000', POLARIS_MAX_USER_BYTES: '400000000' },
      setup: (ctx) => uploadFiles(ctx, 300),
      attack: listingLoops,
    },

    'listings-63': {
      bystander: 'get',
      // The same within the limited server's default quotas: 63 files of ~1 MB (64 MiB a project).
      setup: (ctx) => uploadFiles(ctx, 63),
      attack: listingLoops,
    },

    'fd-exhaustion': {
      bystander: 'get',
      nofile: 256,
      async attack(ctx) {
        const { srv } = ctx;
        const limits = fs.readFileSync(`/proc/${srv.pid}/limits`, 'utf8').match(/Max open files\s+(\d+)\s+(\d+)/);
        const sockets = [];
        let closedByServer = 0;
        let gotData = 0;
        const opened = await Promise.all(Array.from({ length: 400 }, () => new Promise((resolve) => {
          const s = net.connect({ host: '127.0.0.1', port: srv.port });
          sockets.push(s);
          s.on('connect', () => resolve(true));
          s.on('data', () => { gotData += 1; });
          s.on('close', () => { closedByServer += 1; });
          s.on('error', () => resolve(false));
          setTimeout(() => resolve(false), 5000);
        })));
        await sleep(500);
        const cpu0 = cpuTicks(srv.pid);
        const t0 = Date.now();
        const during = [];
        for (let k = 0; k < 5 && !ctx.aborted(); k++) { // one /healthz a second, 1 s timeout
          await sleep(Math.max(0, t0 + k * 1000 - Date.now()));
          during.push(await once(`${srv.url}/healthz`, { timeout: 1000 }));
        }
        await sleep(Math.max(0, t0 + 5000 - Date.now()));
        const cpuHeld = (cpuTicks(srv.pid) - cpu0) / 100 / ((Date.now() - t0) / 1000);
        const closedWhileHeld = closedByServer;
        ctx.phase('released'); // the bystander's figures in the table are those of the hold
        for (const s of sockets) s.destroy();
        await sleep(300);
        const t1 = Date.now();
        let after = null;
        while (Date.now() - t1 < 5000 && !ctx.aborted()) {
          after = await once(`${srv.url}/healthz`, { timeout: 1000 });
          if (after.status === 200) break;
          await sleep(100);
        }
        const recoveredMs = after?.status === 200 ? Date.now() - t1 + 300 : null;
        const cpu1 = cpuTicks(srv.pid);
        await sleep(2000);
        const cpuAfter = (cpuTicks(srv.pid) - cpu1) / 100 / 2;
        const show = (r) => (r.status ? `${r.status}` : 'timeout');
        const figure = `CPU ${(cpuHeld * 100).toFixed(0)}% of a core while held (${(cpuAfter * 100).toFixed(0)}% after); ` +
          `/healthz while held: ${during.map(show).join(' ')}; after close: ${after ? (after.status === 200 ? `200 within ${recoveredMs} ms` : show(after)) : '—'}; ` +
          `${opened.filter(Boolean).length} connected, ${closedWhileHeld} closed by the server`;
        return { figure, nofile: limits ? `${limits[1]}:${limits[2]}` : null, connected: opened.filter(Boolean).length, closedByServerWhileHeld: closedWhileHeld, answeredWithData: gotData, cpuHeldCores: cpuHeld, cpuAfterCores: cpuAfter, healthzWhileHeld: during.map(show), healthzAfter: after, recoveredMs };
      },
    },

    clock: {
      bystander: 'get',
      async attack(ctx) {
        const { srv } = ctx;
        // ts minus the wall clock when the frame was read.
        const offset = (ts) => {
          const v = decodeTs(ts);
          const d = Number(v - BigInt(Date.now()) * 1_000_000n) / 1e9;
          return { raw: v.toString(), offsetS: d };
        };
        const show = (o) => (Math.abs(o.offsetS) < 1e6 ? `${o.offsetS >= 0 ? '+' : '−'}${Math.abs(o.offsetS).toFixed(2)} s` : `${o.raw === '18446744073709551615' ? '2^64−1' : o.raw} (${(o.offsetS / 31_557_600).toFixed(0)} years ahead)`);
        // The user's project first: no commit falls between the hostile Connect and the
        // signed-in session's first Transition (a commit would pull the older clock back to now).
        const u = userClient(srv, 'clock');
        expect200(await u.post('/api/projects', { name: 'clock-1' }), 'create project');
        const evil = await openSync(srv);
        evil.send(connectMsg(crypto.randomUUID(), { maxObservedTimestamp: '//////////8=' }));
        evil.send({ type: 'ModifyQuerySet', baseVersion: 0, newVersion: 1, modifications: [] });
        const te = offset((await evil.next('Transition')).endVersion.ts);
        const conn = await openSync(srv);
        conn.send(connectMsg(crypto.randomUUID()));
        conn.send({ type: 'Authenticate', baseVersion: 0, tokenType: 'User', value: u.token });
        conn.send({ type: 'ModifyQuerySet', baseVersion: 0, newVersion: 1, modifications: [add(0, 'projects:get', {})] });
        let t1;
        for (;;) { t1 = await conn.next('Transition'); if (t1.endVersion.querySet >= 1) break; }
        t1 = offset(t1.endVersion.ts);
        expect200(await u.post('/api/projects', { name: 'clock-2' }), 'create project');
        const t2 = offset((await conn.next('Transition')).endVersion.ts);
        conn.send({ type: 'Mutation', requestId: 1, udfPath: 'projects:create', args: [{ name: 'clock-3' }] });
        const mr = await conn.next('MutationResponse');
        const mrTs = mr.ts ? offset(mr.ts) : null;
        await sleep(3000); // let the bystander take some samples too
        await evil.close();
        await conn.close();
        const r = { anonymousTransition: te, signedInTransition: t1, afterCommit: t2, mutationResponse: mrTs, mutationSuccess: mr.success };
        // Backwards: a later ts of the same session below an earlier one.
        const seq = [r.signedInTransition, r.afterCommit, r.mutationResponse].filter(Boolean).map((o) => BigInt(o.raw));
        const backwards = seq.some((v, i) => i > 0 && v < seq[i - 1]);
        const figure = `signed-in Transition ts ${show(r.signedInTransition)}; after a commit ${show(r.afterCommit)}; MutationResponse ${r.mutationResponse ? show(r.mutationResponse) : '—'}${backwards ? ' (ts went backwards)' : ''}`;
        return { figure, ...r, wentBackwards: backwards };
      },
    },
  };
}

// ------------------------------------------------------------------------------------------------

async function main() {
  const bin = process.argv[2];
  if (!bin || bin.startsWith('-') || !fs.existsSync(bin)) {
    console.error('usage: node bench/abuse.mjs <path-to-polaris-binary> [attack ...]');
    process.exit(2);
  }
  // The shared test helpers read POLARIS_BIN when they load (the mock provider uses it).
  process.env.POLARIS_BIN = path.resolve(bin);
  const [convex, e2e, mockLib] = await Promise.all([
    import('../tests/convex/lib.mjs'), import('../tests/e2e/lib/server.mjs'), import('../tests/e2e/lib/mock.mjs'),
  ]);
  const L = { serverSideTcp: convex.serverSideTcp, openSync: convex.openSync, connectMsg: convex.connectMsg, decodeTs: convex.decodeTs, client: e2e.client, makeToken: e2e.makeToken, startMock: mockLib.startMock };
  const attacks = defineAttacks(L);
  const names = process.argv.length > 3 ? process.argv.slice(3) : DEFAULT_ATTACKS;
  for (const n of names) if (!attacks[n]) { console.error(`unknown attack ${n}; known: ${Object.keys(attacks).join(', ')}`); process.exit(2); }
  const label = process.env.ABUSE_LABEL ?? path.resolve(bin);

  const results = [];
  console.log(`| attack | binary | RSS baseline → peak → end (MiB) | bystander requests | p50 ms | p99 ms | max ms | failed | attack figure | outcome |`);
  console.log(`| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |`);
  for (const name of names) {
    const def = attacks[name];
    let mock = null;
    if (def.mock) mock = await L.startMock('abuse-mock');
    const env = { ...(def.env ?? {}), ...(mock ? { OPENROUTER_API_KEY: 'abuse', OPENROUTER_BASE_URL: mock.v1 } : {}) };
    const srv = await startPolaris(path.resolve(bin), { env, nofile: def.nofile });
    const probe = startProbe(srv, def.bystander);
    await probe.ready;
    const ctx = { srv, mock, aborted: () => Boolean(probe.killed) || probe.died || !srv.alive(), phase: (p) => probe.phase(p) };
    let fig = null;
    let error = null;
    const started = Date.now();
    try {
      if (def.setup) await def.setup(ctx);
      await sleep(1000); // baseline
      probe.phase('attack');
      fig = await def.attack(ctx);
    } catch (e) {
      error = e;
    }
    probe.phase('after');
    await sleep(1000);
    const s = await probe.stop();
    const killed = probe.killed ?? s.killed;
    const died = !killed && !srv.alive();
    const outcome = killed ? `RSS over 4 GB (${(killed / 1024 / 1024).toFixed(2)} GiB), stopped`
      : died ? `server died (${srv.proc.exitCode ?? srv.proc.signalCode})`
        : error ? `error: ${String(error.message).slice(0, 200)}` : 'ok';
    if (died) console.error(`[${name}] server stderr tail:\n${srv.stderr.slice(-1500)}`);
    if (error && !killed && !died) console.error(`[${name}] ${error.stack}`);
    await srv.stop();
    if (mock) await mock.stop();
    const b = s.bystander;
    const row = {
      attack: name, binary: label, outcome, seconds: (Date.now() - started) / 1000,
      rss: { baselineMiB: s.rss.baselineKb / 1024, peakMiB: s.rss.peakKb / 1024, endMiB: s.rss.endKb / 1024 },
      bystander: { mode: def.bystander, ...b },
      bystanderByPhase: s.bystanderByPhase,
      figures: fig,
    };
    results.push(row);
    const fails = b.failed ? `${b.failed} (${Object.entries(b.failureKinds).map(([k, n]) => `${n} ${k}`).join(', ')})` : '0';
    console.log(`| ${name} | ${label} | ${mb(s.rss.baselineKb)} → ${mb(s.rss.peakKb)} → ${mb(s.rss.endKb)} | ${b.requests} | ${fmtMs(b.p50)} | ${fmtMs(b.p99)} | ${fmtMs(b.max)} | ${fails} | ${fig?.figure ?? '—'} | ${outcome} |`);
  }
  console.log(`JSON ${JSON.stringify(results)}`);
}

// Last, so that every constant above is initialised before main() runs.
if (process.argv[2] === '--probe') runProbe();
else await main();

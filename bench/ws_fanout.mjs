// Live-update fan-out: WebSocket subscribers (the Convex sync protocol) watching conversations
// whose assistant messages stream from a provider. Usage (after `make build` and
// `cd tests/convex && npm ci`, which provides the `ws` package):
//   node bench/ws_fanout.mjs [subscribers=1000] [runs=100] [tokens_per_s=50] [seconds=20]
// - `runs` conversations (each in its own project), subscribers spread evenly over them,
//   each on its own socket: Connect, Authenticate, ModifyQuerySet(messages:getMessages).
// - A provider in this process streams tokens "~<send time>" at `tokens_per_s` per run (the
//   time as ms modulo 10^7 in base 36: 6-7 characters, close to real token sizes, so the
//   full-result pushes of the protocol carry realistic amounts of text).
// - One client in ten parses its Transitions and records, per token, now - send time: the
//   delay from the provider token to the client (through the agent, the live tail, the hub and
//   the socket). The other nine in ten are raw sockets that subscribe the same way and read
//   every byte without decoding it, so that this one-threaded process keeps up.
// - Server CPU and RSS from /proc; memory per idle connection from RSS before/after connecting.
import http from 'node:http';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import crypto from 'node:crypto';
import WebSocket from '../tests/convex/node_modules/ws/wrapper.mjs';
import { startServer, token, request, percentile, sleep } from './lib.mjs';

const subscribers = Number(process.argv[2] ?? 1000);
const runs = Number(process.argv[3] ?? 100);
const rate = Number(process.argv[4] ?? 50);
const seconds = Number(process.argv[5] ?? 20);

// The provider runs in its own process (this script with --provider), so that its timers do
// not compete with the 1,000 client sockets of this one.
if (process.argv[2] === '--provider') {
  const [rate, seconds] = [Number(process.argv[3]), Number(process.argv[4])];
  const provider = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const chunk = (delta, finish) =>
        `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      const total = rate * (seconds + 5);
      let k = 0;
      const timer = setInterval(() => {
        if (k++ < total) { res.write(chunk({ content: `~${(Date.now() % 1e7).toString(36)} ` }, null)); return; }
        clearInterval(timer);
        res.end(chunk({}, 'stop') + 'data: [DONE]\n\n');
      }, 1000 / rate);
      res.on('close', () => clearInterval(timer));
    });
  });
  provider.listen(0, '127.0.0.1', () => console.log(`provider ${provider.address().port}`));
  process.on('SIGTERM', () => process.exit(0));
} else {
const providerProc = spawn(process.execPath,
  [new URL(import.meta.url).pathname, '--provider', String(rate), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
const providerPort = await new Promise((resolve) => {
  providerProc.stdout.on('data', (d) => { const m = /provider (\d+)/.exec(String(d)); if (m) resolve(Number(m[1])); });
});
const server = await startServer(
  { OPENROUTER_API_KEY: 'bench', OPENROUTER_BASE_URL: `http://127.0.0.1:${providerPort}/v1`,
    // One user holds every socket and run here: lift the per-user limits above the load.
    POLARIS_MAX_STREAMS_PER_USER: String(subscribers + 16),
    POLARIS_MAX_ACTIVE_RUNS_PER_USER: String(runs + 16),
    POLARIS_MESSAGES_PER_MINUTE: String(runs + 16),
    POLARIS_MAX_PROJECTS_PER_USER: String(runs + 16) },
  ['--max-runs', String(runs)]);
const pid = server.proc.pid;
const tok = token(server.secret, 'bench');

function rssKb() {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return Number(m[1]);
}
function cpuTicks() {
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);  // utime + stime
}

const conversations = [];
for (let i = 0; i < runs; i++) {
  const p = await request(`${server.url}/api/projects`, 'POST', tok, { name: `p${i}` });
  const c = await request(`${server.url}/api/conversations`, 'POST', tok, { projectId: p.body.projectId, title: 'bench' });
  conversations.push(c.body.conversationId);
}

const delays = [];
let measuring = false;
let transitions = 0;  // parsed by the measuring clients
let bytes = 0;  // read by the counting clients
const wsUrl = server.url.replace('http', 'ws') + '/api/1.48.0/sync';
const hello = (i) => [
  { type: 'Connect', sessionId: `bench-${i}`, connectionCount: 0, lastCloseReason: null, clientTs: Date.now() },
  { type: 'Authenticate', baseVersion: 0, tokenType: 'User', value: tok },
  { type: 'ModifyQuerySet', baseVersion: 0, newVersion: 1, modifications: [
    { type: 'Add', queryId: 0, udfPath: 'messages:getMessages', args: [{ conversationId: conversations[i % runs] }] }] },
];
// One client in ten parses every Transition (the `ws` package) and records the delays.
function subscribeParsing(i) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
    const seen = new Map();  // message id -> number of tokens already seen
    let subscribed = false;
    ws.on('open', () => { for (const m of hello(i)) ws.send(JSON.stringify(m)); });
    ws.on('message', (data) => {
      const now = Date.now();
      const msg = JSON.parse(data);
      if (msg.type !== 'Transition') return;
      transitions++;
      if (msg.endVersion.querySet === 1 && msg.startVersion.querySet === 0) { subscribed = true; resolve(ws); }
      for (const mod of msg.modifications) {
        if (mod.type !== 'QueryUpdated') continue;
        for (const m of mod.value) {
          if (m.role !== 'assistant') continue;
          const tokens = m.content.match(/~[0-9a-z]+/g) ?? [];
          const before = seen.get(m._id) ?? 0;
          for (let k = before; measuring && k < tokens.length; k++) {
            const sent = parseInt(tokens[k].slice(1), 36);
            delays.push((((now % 1e7) - sent) + 1e7) % 1e7);
          }
          seen.set(m._id, tokens.length);
        }
      }
    });
    ws.on('error', reject);
    ws.on('close', (code) => { if (!subscribed) reject(new Error(`socket ${i} closed (${code}) before its first result`)); });
  });
}
// The other nine in ten are plain TCP sockets speaking just enough WebSocket to subscribe,
// then only read (and count) the bytes: every push is still written to them in full, but
// this one-threaded load generator does not spend its CPU decoding what it does not measure.
function maskedTextFrame(text) {
  const payload = Buffer.from(text);
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x81, 0x80 | len])
    : len < 65536 ? Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff])
    : (() => { const b = Buffer.alloc(10); b[0] = 0x81; b[1] = 0x80 | 127; b.writeBigUInt64BE(BigInt(len), 2); return b; })();
  const mask = crypto.randomBytes(4);
  for (let k = 0; k < len; k++) payload[k] ^= mask[k & 3];
  return Buffer.concat([head, mask, payload]);
}
function subscribeCounting(i) {
  return new Promise((resolve, reject) => {
    const u = new URL(wsUrl);
    const sock = net.connect(Number(u.port), u.hostname);
    let upgraded = false;
    let subscribed = false;
    let head = '';
    sock.on('connect', () => {
      sock.write(`GET ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
        `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    });
    sock.on('data', (chunk) => {
      if (!upgraded) {
        head += chunk.toString('latin1');
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        if (!head.startsWith('HTTP/1.1 101')) { reject(new Error(`socket ${i}: ${head.split('\r\n')[0]}`)); return; }
        upgraded = true;
        for (const m of hello(i)) sock.write(maskedTextFrame(JSON.stringify(m)));
        chunk = Buffer.from(head.slice(end + 4), 'latin1');
      }
      bytes += chunk.length;
      if (!subscribed && chunk.includes('"Transition"')) { subscribed = true; resolve(sock); }
    });
    sock.on('error', reject);
    sock.on('close', () => { if (!subscribed) reject(new Error(`socket ${i} closed before its first result`)); });
  });
}
const subscribe = (i) => (i % 10 === 0 ? subscribeParsing(i) : subscribeCounting(i));

await sleep(500);
const rssBefore = rssKb();
const sockets = [];
for (let i = 0; i < subscribers; i += 100) {
  sockets.push(...await Promise.all(Array.from({ length: Math.min(100, subscribers - i) }, (_, k) => subscribe(i + k))));
}
await sleep(1000);
const rssIdle = rssKb();
console.log(`${subscribers} idle subscribers: RSS ${(rssBefore / 1024).toFixed(1)} -> ${(rssIdle / 1024).toFixed(1)} MiB, ` +
  `${((rssIdle - rssBefore) / subscribers).toFixed(1)} KiB per idle connection`);

for (const c of conversations) {
  const r = await request(`${server.url}/api/messages`, 'POST', tok, { conversationId: c, message: 'stream' });
  if (r.status !== 200) throw new Error(`POST /api/messages: ${r.status} ${JSON.stringify(r.body)}`);
}
await sleep(2000);  // let every run reach its steady stream
measuring = true;
const cpu0 = cpuTicks();
const clientCpu0 = process.cpuUsage();
const t0 = Date.now();
transitions = 0;
bytes = 0;
await sleep(seconds * 1000);
measuring = false;
const elapsed = (Date.now() - t0) / 1000;
const cpu = (cpuTicks() - cpu0) / 100 / elapsed;  // CLK_TCK = 100
const rssLive = rssKb();
const clientUse = process.cpuUsage(clientCpu0);
const clientCpu = (clientUse.user + clientUse.system) / 1e6 / elapsed;
console.log(`${subscribers} subscribers, ${runs} runs x ${rate} tokens/s, ${seconds} s: ` +
  `${delays.length} token deliveries, ${(transitions / elapsed).toFixed(0)} Transitions/s parsed by the ` +
  `measuring tenth, ${(bytes / elapsed / 1e6).toFixed(1)} MB/s read by the rest`);
console.log(`provider token -> client: p50 ${percentile(delays, 50)} ms, p99 ${percentile(delays, 99)} ms, ` +
  `max ${Math.max(...delays)} ms`);
console.log(`server CPU ${(cpu * 100).toFixed(0)}% of one core, RSS ${(rssLive / 1024).toFixed(1)} MiB while streaming; ` +
  `this client ${(clientCpu * 100).toFixed(0)}% of one core`);
for (const s of sockets) (s.terminate ? s.terminate() : s.destroy());
server.proc.kill('SIGTERM');
providerProc.kill('SIGTERM');
}

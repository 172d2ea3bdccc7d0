// Applied by bench/run-all.sh right after `npm ci` in bench/: makes the pinned
// @portkey-ai/gateway 1.15.2 relay a streamed chat completion when it runs on Node.
//
// Why: the gateway's Node entry (build/start-server.js) runs on @hono/node-server, which
// replaces the global Response with a lightweight class. For a streamed answer the gateway
// builds its reply as `new Response(readable, upstreamResponse)` (handleStreamingMode, minified
// `Cd`); the lightweight class keeps the init's Headers object as it is, and an upstream
// `fetch` response's headers are immutable. The gateway then adds its x-portkey-* headers
// (ResponseService.updateHeaders) and undici throws `TypeError: immutable`: every streamed
// request ends in HTTP 500 {"status":"failure","message":"Something went wrong"} (seen with
// this pinned version on Node 20; the benchmark only sends streamed requests, so only this
// path is patched). The patch passes a copy instead:
//   new Response(p, {status, statusText, headers: new Headers(e.headers)})
// which is what undici's own Response does with a Response as init.
//
// Also written: build/start-server.nodelay.js, the patched gateway without the 25 ms sleep its
// stream loop takes before relaying the first chunk (`if (isFirstChunk) { ...setTimeout(25) }`),
// so that run-all.sh can show what that sleep alone costs. The main comparison uses the
// gateway as shipped (plus the fix above).
//
// Idempotent; fails loudly if the pinned build does not contain the expected code.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';

const dir = new URL('./node_modules/@portkey-ai/gateway/build/', import.meta.url).pathname;
const file = `${dir}start-server.js`;
if (!existsSync(file)) { console.error(`patch-portkey: ${file} not found (run npm ci in bench/ first)`); process.exit(1); }
let src = readFileSync(file, 'utf8');

const FROM = ':new Response(p,e)}const Ad=';
const TO = ':new Response(p,{status:e.status,statusText:e.statusText,headers:new Headers(e.headers)})}const Ad=';
if (src.includes(TO)) {
  console.log('patch-portkey: streaming fix already applied');
} else {
  const n = src.split(FROM).length - 1;
  if (n !== 1) { console.error(`patch-portkey: expected the streaming Response once, found it ${n} times (not @portkey-ai/gateway 1.15.2?)`); process.exit(1); }
  src = src.replace(FROM, TO);
  writeFileSync(file, src);
  console.log('patch-portkey: streaming fix applied');
}

const DELAY = 'l?(l=!1,await new Promise((e=>setTimeout(e,25)))):';
const n = src.split(DELAY).length - 1;
if (n !== 1) { console.error(`patch-portkey: expected the first-chunk sleep once, found it ${n} times`); process.exit(1); }
writeFileSync(`${dir}start-server.nodelay.js`, src.replace(DELAY, 'l?(l=!1,void 0):'));
console.log('patch-portkey: wrote start-server.nodelay.js (no 25 ms first-chunk sleep)');

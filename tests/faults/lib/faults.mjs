// Helpers shared by the fault suites (tests/faults/*.test.mjs): a TCP proxy in front of a mock
// provider that can refuse connections on demand, a seeded random generator, and checks over
// the documents of a project (messages, tool calls, files). Node built-ins only; the server and
// mock lifecycle come from the e2e helpers (../../e2e/lib).
import assert from 'node:assert/strict';
import net from 'node:net';
import { expectOk, sleep } from '../../e2e/lib/server.mjs';

// ---------------------------------------------------------------- refusing proxy

/**
 * A TCP proxy on 127.0.0.1 in front of `targetPort`. Point a server's provider base URL at
 * `proxy.v1()` and the proxy relays every byte both ways; when one side closes or fails, the
 * other is closed (not reset: Node 20's socket.resetAndDestroy() here left the test process
 * spinning at exit now and then). `refuseAfter(n)` closes the listening socket once n more connections have been
 * accepted (0: at once), so the next connection attempt is refused by the kernel (ECONNREFUSED,
 * a real "connection refused", not an accept-then-close); `reopen()` listens again on the same
 * port.
 */
export async function startProxy(targetPort) {
  const sockets = new Set();
  let server = null;
  let port = 0;
  let left = Infinity;  // connections still accepted before the listener closes
  const onConnection = (down) => {
    sockets.add(down);
    if (--left <= 0 && server) { const s = server; server = null; s.close(); }
    const up = net.connect({ host: '127.0.0.1', port: targetPort });
    sockets.add(up);
    down.pipe(up);
    up.pipe(down);
    up.on('error', () => { if (!down.destroyed) down.destroy(); });
    down.on('error', () => { if (!up.destroyed) up.destroy(); });
    up.on('close', () => { sockets.delete(up); if (!down.destroyed) down.end(); });
    down.on('close', () => { sockets.delete(down); if (!up.destroyed) up.destroy(); });
  };
  const listen = async () => {
    for (let i = 0; ; i++) {
      const s = net.createServer(onConnection);
      try {
        await new Promise((resolve, reject) => {
          s.once('error', reject);
          s.listen({ host: '127.0.0.1', port, exclusive: true }, resolve);
        });
        server = s;
        port = s.address().port;
        return;
      } catch (e) {
        if (i >= 50) throw new Error(`proxy cannot listen again on port ${port}: ${e.message}`);
        await sleep(50);
      }
    }
  };
  await listen();
  return {
    get port() { return port; },
    v1: () => `http://127.0.0.1:${port}/v1`,
    refuseAfter(n) {
      left = n;
      if (n <= 0 && server) { const s = server; server = null; s.close(); }
    },
    async reopen() {
      left = Infinity;
      if (!server) await listen();
    },
    /** Stops listening and drops every relayed connection (does not wait for them). */
    close() {
      left = Infinity;
      for (const s of sockets) s.destroy();
      sockets.clear();
      if (server) { const s = server; server = null; s.close(); s.unref(); }
    },
  };
}

// ---------------------------------------------------------------- seeded random

/** mulberry32: a small seeded generator; returns floats in [0, 1). */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6D2B79F5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------- checks

/** The content rule of the contract: steps joined by a blank line, empty ones left out. */
export function compose(...parts) {
  return parts.filter((p) => p).join('\n\n');
}

/** Asserts that no tool call id appears twice in the messages; returns the ids. */
export function assertUniqueToolCalls(messages, what = '') {
  const ids = [];
  for (const m of messages) for (const tc of m.toolCalls || []) ids.push(tc.id);
  const seen = new Set();
  for (const id of ids) {
    assert.ok(!seen.has(id), `${what}: tool call ${id} appears twice: ${JSON.stringify(messages).slice(0, 3000)}`);
    seen.add(id);
  }
  return ids;
}

/** GET the project's file documents; returns {files, byPath} with paths rebuilt from parentId. */
export async function projectFiles(c, projectId) {
  const files = expectOk(await c.get(`/api/projects/${projectId}/files`), 'GET files');
  const byId = new Map(files.map((f) => [f._id, f]));
  const pathOf = (f) => (f.parentId ? `${pathOf(byId.get(f.parentId))}/${f.name}` : f.name);
  const byPath = new Map();
  for (const f of files) {
    const p = pathOf(f);
    assert.ok(!byPath.has(p), `path ${p} exists twice: ${JSON.stringify(files).slice(0, 2000)}`);
    byPath.set(p, f);
  }
  return { files, byPath };
}

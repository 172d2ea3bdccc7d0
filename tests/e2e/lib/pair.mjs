// Two `polaris serve` processes on one fresh PostgreSQL database (createPgDatabase, so it needs
// POLARIS_TEST_PG_URI), each with its own data dir and its own mock provider: the mock that
// receives a run's requests tells which process executes the run. Used by the multi-process
// tests (tests/e2e/multiprocess.test.mjs, tests/convex/multiprocess.test.mjs). Node built-ins only.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import {
  startServer, createPgDatabase, randomSecret, makeToken, client, newUser,
} from './server.mjs';
import { startMock, providerEnv, waitFor } from './mock.mjs';

/** The run lease of both processes (POLARIS_RUN_LEASE_MS). */
export const LEASE_MS = 2000;

function pairMethods(p) {
  /** Starts process A or B (again, on its old data dir when given). */
  p.start = async (name, dataDir) => {
    const s = await startServer({ db: p.db, secret: p.secret, env: name === 'A' ? p.envA : p.envB, dataDir });
    s.label = name;
    p.servers.push(s);
    p.dirs.add(s.dataDir);
    return s;
  };
  p.users = (sub = newUser('mp')) => {
    const token = makeToken(sub, p.secret);
    return { user: sub, token, A: client(p.a, token), B: client(p.b, token) };
  };
  p.resetMocks = async () => { await p.ma.reset(); await p.mb.reset(); };
  /** The same script on both mocks: whichever process runs the message gets it. */
  p.scriptBoth = async (steps) => { await p.ma.script(steps); await p.mb.script(steps); };
  p.runRequests = async () => [...await p.ma.runRequests(), ...await p.mb.runRequests()];
  /**
   * Waits until a run's first provider request arrives and returns who executes it:
   * {name, runner, runnerMock, other, otherMock, otherName}. Fails if both mocks were asked.
   */
  p.whoRuns = async (what = 'the run') => {
    const got = await waitFor(async () => {
      const na = (await p.ma.runRequests()).length;
      const nb = (await p.mb.runRequests()).length;
      if (na && nb) return 'both';
      return na ? 'A' : nb ? 'B' : null;
    }, { timeout: 15_000, interval: 20, what: `${what} to reach a provider` });
    assert.notEqual(got, 'both', `${what} must execute on one process, but both mock providers were asked`);
    return got === 'A'
      ? { name: 'A', runner: p.a, runnerMock: p.ma, other: p.b, otherMock: p.mb, otherName: 'B' }
      : { name: 'B', runner: p.b, runnerMock: p.mb, other: p.a, otherMock: p.ma, otherName: 'A' };
  };
  p.stop = async () => {
    const errors = [];
    for (const s of p.servers) {
      if (!s.stopped) await s.stop({ keepDir: true }).catch((e) => errors.push(e));
    }
    for (const m of p.mocks) await m.stop().catch(() => {});
    for (const d of p.dirs) fs.rmSync(d, { recursive: true, force: true });
    if (errors.length) throw errors[0];
  };
  return p;
}

/**
 * Starts mock A, mock B, a fresh database, then processes A and B on it (same JWT secret,
 * POLARIS_RUN_LEASE_MS = LEASE_MS, plus `extraEnv` on both).
 */
export async function newPair(label, extraEnv = {}) {
  const p = pairMethods({ servers: [], mocks: [], dirs: new Set() });
  try {
    p.ma = await startMock(`${label}-mockA`); p.mocks.push(p.ma);
    p.mb = await startMock(`${label}-mockB`); p.mocks.push(p.mb);
    p.db = createPgDatabase();
    p.secret = randomSecret();
    const common = { POLARIS_RUN_LEASE_MS: LEASE_MS, ...extraEnv };
    p.envA = { ...providerEnv(p.ma), ...common };
    p.envB = { ...providerEnv(p.mb), ...common };
    p.a = await p.start('A');
    p.b = await p.start('B');
  } catch (e) {
    await p.stop().catch(() => {});
    throw e;
  }
  return p;
}

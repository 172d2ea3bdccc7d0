// Structured logs: JSON lines on stderr with levels, each about a request or a run by its id;
// --log-level / POLARIS_LOG_LEVEL chooses the least level; no secret reaches the log.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  POLARIS_BIN, startServer, randomSecret, makeToken, client, newUser, expectOk, serverEnv, makeTempDir,
} from './lib/server.mjs';
import { startMock, providerEnv, newChat, postMessage, waitStatus, waitFor } from './lib/mock.mjs';

/** Every stderr line, parsed: a line that is not a JSON object fails the test. */
function logLines(server) {
  return server.stderr.split('\n').filter((l) => l.trim()).map((l) => {
    let v;
    try { v = JSON.parse(l); } catch { assert.fail(`a log line is not JSON: ${l}`); }
    assert.equal(typeof v, 'object');
    assert.match(v.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(['debug', 'info', 'warn', 'error'].includes(v.level), l);
    assert.equal(typeof v.msg, 'string');
    return v;
  });
}

describe('structured logs', () => {
  test('debug: each request is a line carrying its id, echoed as X-Request-Id; a run logs its life', async () => {
    const mock = await startMock('logs-mock');
    const secret = randomSecret();
    const server = await startServer({ secret, args: ['--log-level', 'debug'], env: providerEnv(mock) });
    try {
      const c = client(server, makeToken(newUser('logs'), secret));
      const res = await c.get('/api/projects', { headers: { 'X-Request-Id': 'trace-abc.123' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-request-id'), 'trace-abc.123');
      const mine = await c.get('/api/projects', { headers: { 'X-Request-Id': 'no spaces "allowed"' } });
      const ours = mine.headers.get('x-request-id');
      assert.match(ours, /^req-\d+$/, 'an unusable client id is replaced by one of ours');
      await waitFor(() => logLines(server).some((l) => l.msg === 'request' && l.request === ours),
        { what: 'the second request in the log' });
      const line = logLines(server).find((l) => l.msg === 'request' && l.request === 'trace-abc.123');
      assert.ok(line, 'the request is logged with its id');
      assert.equal(line.level, 'debug');
      assert.equal(line.method, 'GET');
      assert.equal(line.path, '/api/projects');
      assert.equal(line.status, 200);
      assert.equal(typeof line.ms, 'number');

      const chat = await newChat(c);
      await mock.script([{ type: 'text', text: 'Logged.' }]);
      const posted = await postMessage(c, chat.conversationId, 'log my run');
      await waitStatus(c, chat.conversationId, posted.messageId, 'completed');
      await waitFor(() => logLines(server).some((l) => l.msg === 'run ended' && l.run === posted.runId),
        { what: 'the run\'s end in the log' });
      const life = logLines(server).filter((l) => l.run === posted.runId).map((l) => l.msg);
      assert.ok(life.includes('run attempt started'), life.join(', '));
      assert.equal(logLines(server).find((l) => l.msg === 'run ended' && l.run === posted.runId).outcome, 'completed');
      const start = logLines(server).find((l) => l.msg === 'starting');
      assert.ok(start, 'the start-up settings are logged');
      assert.equal(start.log_level, 'debug');
      assert.match(start.providers, /openrouter/);
      assert.ok(!server.stderr.includes(secret), 'the JWT secret never reaches the log');
    } finally {
      await server.stop();
      await mock.stop();
    }
  });

  test('a provider failure and its fallback are logged as warnings with the run id', async () => {
    const primary = await startMock('logs-primary');
    const fallback = await startMock('logs-fallback');
    const secret = randomSecret();
    const server = await startServer({ secret, env: { ...providerEnv(primary, fallback), POLARIS_BREAKER_COOLDOWN_MS: 1 } });
    try {
      const c = client(server, makeToken(newUser('logsfb'), secret));
      const chat = await newChat(c);
      await primary.script([{ type: 'fault', fault: 'http500' }]);
      await fallback.script([{ type: 'text', text: 'From the fallback.' }]);
      const posted = await postMessage(c, chat.conversationId, 'fail over');
      await waitStatus(c, chat.conversationId, posted.messageId, 'completed');
      const warn = logLines(server).find((l) => l.msg === 'provider failed: falling back' && l.for === posted.runId);
      assert.ok(warn, `no fallback warning:\n${server.stderr}`);
      assert.equal(warn.level, 'warn');
      assert.equal(warn.provider, 'openrouter');
      assert.equal(warn.next, 'cerebras');
      assert.equal(warn.status, 500);
      assert.ok(!logLines(server).some((l) => l.level === 'debug'), 'info is the default level');
    } finally {
      await server.stop();
      await primary.stop();
      await fallback.stop();
    }
  });

  test('an unknown level stops the start and says which setting is wrong', () => {
    const dir = makeTempDir();
    const viaEnv = spawnSync(POLARIS_BIN, ['serve', '--port', '0', '--data-dir', dir, '--db', `sqlite:${dir}/p.db`],
      { env: serverEnv({ POLARIS_LOG_LEVEL: 'verbose', POLARIS_JWT_SECRET: randomSecret() }), encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(viaEnv.status, 0);
    assert.match(viaEnv.stderr, /POLARIS_LOG_LEVEL/);
    assert.match(viaEnv.stderr, /verbose/);
    const viaFlag = spawnSync(POLARIS_BIN, ['serve', '--port', '0', '--log-level', 'loud'],
      { env: serverEnv({}), encoding: 'utf8', timeout: 20_000 });
    assert.notEqual(viaFlag.status, 0);
    assert.match(viaFlag.stderr, /log-level/);
  });
});

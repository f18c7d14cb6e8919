'use strict';
// A redis-server of the test's own (Debian's redis-server, installed by .ci/run) on 127.0.0.1 and a free port, in
// a temp directory; `stop()` and `start()` again for fault tests. Only ever stops the server it started.
const { spawn, spawnSync } = require('node:child_process');
const { tmpDir } = require('./nr');
const assert = require('node:assert/strict');
const { freePort } = require('./durable');
const { startChild } = require('../fixtures/history-child');

function redisServerBinary() {
  const which = spawnSync('sh', ['-c', 'command -v redis-server'], { encoding: 'utf8' });
  const bin = which.stdout.trim();
  if (!bin) throw new Error("redis-server is not installed: apt-get install redis-server (Debian's package; .ci/run installs it)");
  return bin;
}

/**
 * Starts redis-server; `appendonly`: keep what it holds across a stop (an append-only file, fsync every write).
 * Resolves with { port, url, dir, stop(), start(), close() }.
 */
async function startRedis({ appendonly = false, password } = {}) {
  const bin = redisServerBinary();
  const port = await freePort();
  const dir = tmpDir('pn-redis-');
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir, '--appendonly', appendonly ? 'yes' : 'no'];
  if (appendonly) args.push('--appendfsync', 'always');
  if (password) args.push('--requirepass', password);
  let proc;
  const server = {
    port,
    dir,
    url: password ? `redis://:${password}@127.0.0.1:${port}` : `redis://127.0.0.1:${port}`,
    get running() {
      return Boolean(proc && proc.exitCode === null && proc.signalCode === null);
    },
    start() {
      return new Promise((resolve, reject) => {
        proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        const onData = (chunk) => {
          out += chunk;
          if (out.includes('Ready to accept connections')) {
            proc.stdout.off('data', onData);
            resolve();
          }
        };
        proc.stdout.setEncoding('utf8');
        proc.stdout.on('data', onData);
        proc.once('exit', (code) => reject(new Error(`redis-server exited (${code}) before it was ready:\n${out}`)));
      });
    },
    /** SIGTERM (Redis writes what it holds and exits); resolves once it has exited. */
    stop() {
      const p = proc;
      if (!p || p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        p.once('exit', () => resolve());
        p.kill('SIGTERM');
      });
    },
    close() {
      return server.stop();
    },
  };
  await server.start();
  return server;
}

/** Two runtimes on `redis`; the claims' lease is 10 s here (30 s by default) so that the takeover fits the test's time. */
async function twoInstances(redis, prefix) {
  const settings = { notifierStore: { type: 'redis', url: redis.url, prefix, leaseMs: 10_000 } };
  const dirA = tmpDir('pn-ha-a-');
  const a = await startChild(dirA, settings);
  const b = await startChild(tmpDir('pn-ha-b-'), settings);
  return { a, b, settings, dirA };
}

function noUnhandled(child) {
  const out = child.output();
  assert.ok(
    !/Unhandled error event|UnhandledPromiseRejection|unhandledRejection/i.test(out),
    `no unhandled error in ${child.pid}:\n${out.slice(-2000)}`,
  );
}

module.exports = { startRedis, twoInstances, noUnhandled };

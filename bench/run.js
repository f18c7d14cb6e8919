#!/usr/bin/env node
'use strict';
// `npm run bench [-- --json] [--only name,name] [--rounds n] [--runs n] [--nr5]`: every benchmark
// against its peer, each in a fresh process, one after the other. Each benchmark takes the median of
// several rounds; --runs n repeats each benchmark in n fresh processes and reports the medians of
// ours, peer and ratio over the runs. Human-readable table by default; with --json one object per line
// on stdout: {"name","ours","peer","unit","ratio"} (ratio > 1 means we are better); details (per-round
// figures, latencies, counts) go to stderr. Benchmarks print; they never assert.
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
const runs = Math.max(1, Number(opt('--runs') || 1));

require(path.join(ROOT, 'scripts', 'ensure.js')).ensureReady();

/** name, file, target ratio; modules written by others run only when present. */
const BENCHES = [
  { name: 'predicate-vs-jsonata', file: 'predicate-vs-jsonata.js', target: 10 },
  { name: 'template-vs-mustache', file: 'template-vs-mustache.js', target: 2 },
  { name: 'pipeline-vs-core-flow', file: 'pipeline-vs-core-flow.js', target: 1 },
  { name: 'email-vs-node-red-node-email', file: 'email-vs-node-red-node-email.js', target: 3 },
  { name: 'webhook-vs-core-http-request', file: 'webhook-vs-core-http-request.js', target: 1.2 },
  { name: 'webhook-vs-raw-client', file: 'webhook-vs-raw-client.js', target: 0.7 },
  { name: 'memory-burst', file: 'memory-burst.js' },
  { name: 'outbox-restart', file: 'outbox-restart.js' },
  { name: 'outbox-redis-vs-file', file: 'outbox-redis-vs-file.js', target: 0.5 },
  { name: 'history-memory', file: 'history-memory.js' },
  { name: 'digest-vs-individual', file: 'digest-vs-individual.js', target: 100 },
];

function runOne(bench) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', path.join(__dirname, 'lib', 'run-one.js'), path.join(__dirname, bench.file), JSON.stringify(options)],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
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

function median(values) {
  const s = values.filter((v) => typeof v === 'number' && Number.isFinite(v)).sort((a, b) => a - b);
  if (!s.length) return null;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One line per result name: medians of ours, peer and ratio over the runs. */
function combine(perRun) {
  const byName = new Map();
  for (const results of perRun) for (const r of results) byName.set(r.name, [...(byName.get(r.name) || []), r]);
  return [...byName.values()].map((list) => {
    if (list.length === 1) return list[0];
    const round = (v, f) => (v === null ? v : Math.round(v * f) / f);
    const med = (k) => median(list.map((r) => r[k]));
    process.stderr.write(`   ${list[0].name} over ${list.length} runs: ratios ${list.map((r) => r.ratio).join(', ')}\n`);
    return { ...list[0], ours: round(med('ours'), 100), peer: round(med('peer'), 100), ratio: round(med('ratio'), 1000) };
  });
}

(async () => {
  const rows = [];
  let failed = 0;
  for (const bench of BENCHES) {
    if (only && !only.has(bench.name)) continue;
    if (!fs.existsSync(path.join(__dirname, bench.file))) {
      process.stderr.write(`-- ${bench.name}: skipped (bench/${bench.file} is not there yet)\n`);
      continue;
    }
    const t0 = Date.now();
    const perRun = [];
    for (let run = 1; run <= runs; run++) {
      process.stderr.write(`-- ${bench.name}${runs > 1 ? ` (run ${run} of ${runs})` : ''}\n`);
      const { code, results } = await runOne(bench);
      if (code !== 0 || !results.length) {
        failed++;
        process.stderr.write(`-- ${bench.name}: FAILED (exit ${code})\n`);
        continue;
      }
      for (const r of results) {
        const extra = Object.keys(r).filter((k) => !['name', 'ours', 'peer', 'unit', 'ratio'].includes(k));
        for (const k of extra) process.stderr.write(`   ${r.name} ${k}: ${JSON.stringify(r[k])}\n`);
      }
      perRun.push(results);
    }
    if (!perRun.length) continue;
    const results = combine(perRun);
    for (const r of results) {
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

#!/usr/bin/env node
'use strict';
// Benchmark: ProGet's default webhook content for package events (compiled OtterScript,
// `$ToJson(%(package: $PackageId, …))`) against the equivalent Mustache template (the mustache
// package Node-RED's template node uses, resolved from node-red's dependencies), rendering the same
// event, several rounds in the same run; medians compared.
//
//   node bench/template-vs-mustache.js          human-readable line
//   node bench/template-vs-mustache.js --json   one JSON line {"name","ours","peer","unit","ratio"}
//
// ratio = ours / peer in ops/s: > 1 means the OtterScript template is faster. Requires a build (dist/).
const path = require('node:path');
const assert = require('node:assert/strict');
const { performance } = require('node:perf_hooks');

const ROOT = path.resolve(__dirname, '..');

function requireFromNodeRed(name) {
  const bases = ['@node-red/nodes', '@node-red/runtime', 'node-red'];
  for (const base of bases) {
    try {
      const dir = path.dirname(require.resolve(`${base}/package.json`, { paths: [ROOT] }));
      return require(require.resolve(name, { paths: [dir] }));
    } catch {
      // not in this Node-RED: try the next one
    }
  }
  return require(require.resolve(name, { paths: [ROOT] }));
}

// The same JSON document as ProGet's default (every value a string).
const MUSTACHE = '{"package":"{{PackageId}}","version":"{{PackageVersion}}","event":"{{PackageEvent}}","user":"{{UserName}}","feed":"{{FeedName}}"}';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

function measure(fn, ms) {
  let ops = 0;
  let sink = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) sink += fn().length;
    ops += 1000;
    now = performance.now();
  }
  if (sink === 0) throw new Error('nothing rendered');
  return (ops * 1000) / (now - start);
}

async function run({ rounds = 7, roundMs = 300 } = {}) {
  const { compileTemplate, defaultTemplates } = require(path.join(ROOT, 'dist', 'core', 'otterscript'));
  const { sampleEvent } = require(path.join(ROOT, 'dist', 'core', 'events'));
  const Mustache = requireFromNodeRed('mustache');

  const vars = sampleEvent('package.promoted').vars;
  const source = defaultTemplates('package.promoted').webhook;
  const ours = compileTemplate(source);
  Mustache.parse(MUSTACHE); // Mustache caches the parsed template, as the template node does
  const peer = () => Mustache.render(MUSTACHE, vars);

  assert.deepEqual(JSON.parse(ours(vars)), JSON.parse(peer()), 'both render the same document');

  const oursFn = () => ours(vars);
  measure(oursFn, 100); // warm-up
  measure(peer, 100);
  const a = [];
  const b = [];
  for (let r = 0; r < rounds; r++) {
    if (r % 2) {
      b.push(measure(peer, roundMs));
      a.push(measure(oursFn, roundMs));
    } else {
      a.push(measure(oursFn, roundMs));
      b.push(measure(peer, roundMs));
    }
  }
  const oursMed = median(a);
  const peerMed = median(b);
  return {
    name: 'template-vs-mustache',
    ours: Math.round(oursMed),
    peer: Math.round(peerMed),
    unit: 'ops/s',
    ratio: Number((oursMed / peerMed).toFixed(2)),
  };
}

module.exports = { run, MUSTACHE };

if (require.main === module) {
  run()
    .then((r) => {
      if (process.argv.includes('--json')) console.log(JSON.stringify(r));
      else {
        console.log(
          `webhook body: OtterScript ${r.ours.toLocaleString('en-US')} ${r.unit} vs Mustache ${r.peer.toLocaleString('en-US')} ${r.unit}: ` +
            `${r.ratio}x (median of 7 rounds, ProGet's default package-event content)`,
        );
      }
    })
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    });
}

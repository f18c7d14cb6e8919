#!/usr/bin/env node
'use strict';
// Benchmark: a compiled notifier condition (OtterScript predicate) against the equivalent JSONata
// expression (the jsonata package Node-RED itself uses, resolved from node-red's dependencies),
// both evaluated over the same message, several rounds in the same run; medians compared.
//
//   node bench/predicate-vs-jsonata.js          human-readable line
//   node bench/predicate-vs-jsonata.js --json   one JSON line {"name","ours","peer","unit","ratio"}
//
// ratio = ours / peer in ops/s: > 1 means the OtterScript predicate is faster. Requires a build (dist/).
const path = require('node:path');
const assert = require('node:assert/strict');
const { performance } = require('node:perf_hooks');

const ROOT = path.resolve(__dirname, '..');

/**
 * The jsonata Node-RED evaluates with: the `jsonata` package from node-red's dependencies, or the
 * copy @node-red/util bundles as lib/jsonata.js (Node-RED 4.1 ships it that way).
 */
function nodeRedJsonata() {
  for (const base of ['@node-red/util', '@node-red/runtime', 'node-red']) {
    let dir;
    try {
      dir = path.dirname(require.resolve(`${base}/package.json`, { paths: [ROOT] }));
    } catch {
      continue;
    }
    try {
      return require(require.resolve('jsonata', { paths: [dir] }));
    } catch {
      // not at the top of this package: try its lib/ below
    }
    try {
      return require(path.join(dir, 'lib', 'jsonata.js'));
    } catch {
      // not in this Node-RED either: try the next one
    }
  }
  throw new Error("jsonata not found among node-red's dependencies");
}

const PREDICATE = '$Compare($VulnerabilityScore,>=,7.5) && $FeedName == internal-utils';
const JSONATA = '$number(event.vars.VulnerabilityScore) >= 7.5 and event.vars.FeedName = "internal-utils"';

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** ops/s of a synchronous function over `ms` milliseconds. */
function measureSync(fn, ms) {
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 1000; i++) fn();
    ops += 1000;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

/** ops/s of an async function (awaited one after the other) over `ms` milliseconds. */
async function measureAsync(fn, ms) {
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < ms) {
    for (let i = 0; i < 100; i++) await fn();
    ops += 100;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

async function run({ rounds = 7, roundMs = 300 } = {}) {
  const { compilePredicate } = require(path.join(ROOT, 'dist', 'core', 'otterscript'));
  const { normalizeEvent, sampleEvent } = require(path.join(ROOT, 'dist', 'core', 'events'));
  const jsonata = nodeRedJsonata();

  const event = normalizeEvent({ event: 'sca.new-vulnerability', ...sampleEvent('sca.new-vulnerability').vars, FeedName: 'internal-utils' });
  const msg = { _msgid: 'bench', topic: event.type, event, payload: event.vars };
  const ours = compilePredicate(PREDICATE);
  const peer = jsonata(JSONATA);

  // both say the same thing, for a passing and a blocked event
  assert.equal(ours(msg.event.vars), true);
  assert.equal(await peer.evaluate(msg), true);
  const blocked = { ...msg, event: { ...event, vars: { ...event.vars, VulnerabilityScore: '5.0' } } };
  assert.equal(ours(blocked.event.vars), false);
  assert.equal(await peer.evaluate(blocked), false);

  const oursFn = () => ours(msg.event.vars);
  const peerFn = () => peer.evaluate(msg);
  measureSync(oursFn, 100); // warm-up
  await measureAsync(peerFn, 100);
  const a = [];
  const b = [];
  for (let r = 0; r < rounds; r++) {
    // alternate the order so that neither side always runs on a warmer or cooler machine
    if (r % 2) {
      b.push(await measureAsync(peerFn, roundMs));
      a.push(measureSync(oursFn, roundMs));
    } else {
      a.push(measureSync(oursFn, roundMs));
      b.push(await measureAsync(peerFn, roundMs));
    }
  }
  const oursMed = median(a);
  const peerMed = median(b);
  return {
    name: 'predicate-vs-jsonata',
    ours: Math.round(oursMed),
    peer: Math.round(peerMed),
    unit: 'ops/s',
    ratio: Number((oursMed / peerMed).toFixed(2)),
  };
}

module.exports = { run, PREDICATE, JSONATA };

if (require.main === module) {
  run()
    .then((r) => {
      if (process.argv.includes('--json')) console.log(JSON.stringify(r));
      else {
        console.log(
          `condition: OtterScript ${r.ours.toLocaleString('en-US')} ${r.unit} vs JSONata ${r.peer.toLocaleString('en-US')} ${r.unit}: ` +
            `${r.ratio}x (median of 7 rounds)\n  ours: ${PREDICATE}\n  JSONata: ${JSONATA}`,
        );
      }
    })
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    });
}

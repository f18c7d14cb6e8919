'use strict';
// Hostile events against a real Node-RED runtime (RED.init, Node-RED's default roots): what anyone who can
// reach the event endpoint, or publish a package, can send. Bounds are counts and ratios, never wall-clock
// limits: a 60,000-variable body is refused (413, naming the cap); a 1 MiB body of the most variables
// allowed is answered within 50x the time of a normal event; `__proto__` never reaches a prototype; the
// catastrophic regular expressions finish in linear time (1x and 8x the input: time ratio well under the
// 64 of quadratic); a template looping over $Replace of a big value stops on its work budget.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { MAX_VARIABLES } = require('../../dist/core/events');

let rt;
const CATASTROPHIC =
  '$MatchesRegex($PackageId, "(a+){1,}b") || $MatchesRegex($PackageId, "(a|a)*b") || $MatchesRegex($PackageVersion, "\\d+\\.\\d+\\.\\d+")';
const flows = () => [
  { id: 't1', type: 'tab', label: 'hostile' },
  { id: 'ev', z: 't1', type: 'notifier-event', path: '/hostile/events', events: [], auth: 'none', wires: [['dbg', 'regex', 'budget']] },
  {
    id: 'regex',
    z: 't1',
    type: 'notifier-condition',
    feeds: '',
    mode: 'expression',
    expression: CATASTROPHIC,
    outputs: 2,
    wires: [['matched'], ['unmatched']],
  },
  {
    id: 'budget',
    z: 't1',
    type: 'notifier-condition',
    feeds: '',
    mode: 'expression',
    expression:
      '$Replace($Replace($Replace($Replace($Replace($Replace($Replace($Replace($Var0, x, yy), y, xx), x, yy), y, xx), x, yy), y, xx), x, yy), y, xx) == ""',
    outputs: 1,
    wires: [[]],
  },
  { id: 'catcher', z: 't1', type: 'catch', scope: ['budget', 'regex'], uncaught: false, wires: [['caught']] },
  { id: 'plain', z: 't1', type: 'notifier-event', path: '/hostile/plain', events: [], auth: 'none', wires: [['plainDbg']] },
  { id: 'plainDbg', z: 't1', type: 'debug', active: false },
  { id: 'dbg', z: 't1', type: 'debug', active: false },
  { id: 'matched', z: 't1', type: 'debug', active: false },
  { id: 'unmatched', z: 't1', type: 'debug', active: false },
  { id: 'caught', z: 't1', type: 'debug', active: false },
];

test.before(async () => {
  rt = await startRuntime();
  await rt.deploy(flows());
});
test.after(() => rt && rt.stop());

async function post(body, path = '/hostile/events') {
  const started = process.hrtime.bigint();
  const res = await fetch(rt.nodeUrl + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const json = await res.json();
  return { status: res.status, json, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const normal = (extra = {}) =>
  JSON.stringify({ event: 'package.promoted', PackageId: 'Safe.Package', PackageVersion: '1.0.0', FeedName: 'internal', ...extra });

test('a body of 60,000 variables (under the 1 MiB limit) is refused with 413 naming the cap, and nothing is emitted', async () => {
  const box = rt.inbox('dbg');
  const before = box.all.length;
  const vars = { event: 'package.promoted' };
  for (let i = 0; i < 60000; i++) vars['v' + i] = '1';
  const body = JSON.stringify(vars);
  assert.ok(Buffer.byteLength(body) < 1024 * 1024);
  const r = await post(body);
  assert.equal(r.status, 413);
  assert.match(JSON.stringify(r.json.details), new RegExp(`more than ${MAX_VARIABLES} variables`));
  // the runtime is not stalled: a normal event right after is accepted and emitted
  const ok = await post(normal());
  assert.equal(ok.status, 202);
  await box.until((m) => m.event?.id === ok.json.id);
  assert.equal(box.all.length, before + 1, 'only the normal event came out');
});

test('every cap is refused with a status and a message that names it', async () => {
  const cases = [
    [
      { event: 'package.promoted', PackageId: 'p', PackageVersion: '1', FeedName: 'f', Long: 'x'.repeat(70000) },
      413,
      /text longer than 65536 characters/,
    ],
    [
      { event: 'package.promoted', PackageId: 'p', PackageVersion: '1', FeedName: 'f', List: Array(10001).fill('a') },
      413,
      /more than 10000 \(the cap for one list or map\)/,
    ],
    [
      {
        event: 'package.promoted',
        PackageId: 'p',
        PackageVersion: '1',
        FeedName: 'f',
        A: Array(9000).fill('a'),
        B: Array(9000).fill('a'),
        C: Array(9000).fill('a'),
      },
      413,
      /more than 20000 values in all/,
    ],
  ];
  for (const [body, status, message] of cases) {
    const r = await post(JSON.stringify(body));
    assert.equal(r.status, status, JSON.stringify(r.json).slice(0, 200));
    assert.match(JSON.stringify(r.json.details), message);
  }
});

test('a 1 MiB body of the most variables allowed is answered within 50x the time of a normal event', async (t) => {
  const big = { event: 'package.promoted', PackageId: 'Big.Package', PackageVersion: '1.0.0', FeedName: 'internal' };
  for (let i = 0; Object.keys(big).length < MAX_VARIABLES; i++) big['Var' + i] = 'x'.repeat(1030);
  const body = JSON.stringify(big);
  assert.ok(Buffer.byteLength(body) > 1_000_000 && Buffer.byteLength(body) <= 1024 * 1024, `${Buffer.byteLength(body)} bytes`);
  // the time to the answer, one event at a time (each waits until the one before came out of the node)
  const box = rt.inbox('plainDbg');
  const round = async (b) => {
    const r = await post(b, '/hostile/plain');
    assert.equal(r.status, 202);
    await box.until((m) => m.event?.id === r.json.id, 30000);
    return r.ms;
  };
  for (let i = 0; i < 3; i++) {
    await round(normal());
    await round(body);
  }
  const normals = [];
  const bigs = [];
  for (let i = 0; i < 5; i++) {
    normals.push(await round(normal()));
    bigs.push(await round(body));
  }
  const ratio = median(bigs) / median(normals);
  t.diagnostic(
    `1 MiB / ${MAX_VARIABLES} variables: median ${median(bigs).toFixed(1)} ms; normal event ${median(normals).toFixed(1)} ms; ratio ${ratio.toFixed(1)}`,
  );
  assert.ok(ratio < 50, `ratio ${ratio.toFixed(1)}`);
});

test('__proto__, constructor and prototype never reach a prototype: refused with 400, nothing polluted', async () => {
  const bodies = [
    '{"type":"package.promoted","vars":{"PackageId":"p","PackageVersion":"1","FeedName":"f","__proto__":{"polluted":"yes"}}}',
    '{"event":"package.promoted","PackageId":"p","PackageVersion":"1","FeedName":"f","__proto__":{"polluted":"yes"}}',
    '{"event":"package.promoted","PackageId":"p","PackageVersion":"1","FeedName":"f","Meta":{"constructor":{"prototype":{"polluted":"yes"}}}}',
    '{"event":"sca.new-vulnerability","VulnerabilityId":"V","AffectedPackages":[{"Name":"n","__proto__":{"polluted":"yes"}}]}',
  ];
  for (const body of bodies) {
    const r = await post(body);
    assert.equal(r.status, 400, body);
    assert.match(JSON.stringify(r.json.details), /reserved name/);
  }
  assert.equal({}.polluted, undefined);
  assert.equal(Object.prototype.polluted, undefined);
});

test('accepted events are frozen, and output nodes need not check them again', async () => {
  const box = rt.inbox('dbg');
  const r = await post(normal({ Extra: { a: ['b'] } }));
  const msg = await box.until((m) => m.event?.id === r.json.id);
  const { isValidatedEvent } = require('../../dist/core/events');
  assert.ok(isValidatedEvent(msg.event), 'marked as validated (the mark survives Node-RED cloning the message for each wire)');
  if (Object.isFrozen(msg.event))
    assert.throws(() => {
      'use strict';
      msg.event.vars.PackageId = 'changed';
    }, TypeError);
});

async function regexRound(size) {
  const box = rt.inbox('unmatched');
  const r = await post(normal({ PackageId: 'a'.repeat(size), PackageVersion: '1'.repeat(size) }));
  assert.equal(r.status, 202);
  const started = Date.now();
  await box.until((m) => m.event?.id === r.json.id, 120000);
  return r.ms + (Date.now() - started);
}

test('the catastrophic patterns (a+){1,}b, (a|a)*b and \\d+\\.\\d+\\.\\d+ run in linear time over 8x the input', async (t) => {
  await regexRound(1000);
  const small = [];
  const large = [];
  for (let i = 0; i < 3; i++) {
    small.push(await regexRound(8000));
    large.push(await regexRound(64000));
  }
  const ratio = median(large) / median(small);
  t.diagnostic(
    `regex: 8,000 characters ${median(small).toFixed(1)} ms, 64,000 characters ${median(large).toFixed(1)} ms, ratio ${ratio.toFixed(2)} (quadratic: 64)`,
  );
  assert.ok(ratio < 24, `ratio ${ratio.toFixed(2)}`);
  assert.equal(rt.inbox('matched').all.length, 0);
});

test('a predicate that blows a value up with $Replace stops on its work budget with a clear error', async () => {
  const caught = rt.inbox('caught');
  const r = await post(normal({ Var0: 'x'.repeat(60000) }));
  const m = await caught.until((x) => x.event?.id === r.json.id && x.error?.source?.id === 'budget', 30000);
  assert.match(m.error.message, /more work than allowed|longer than 16 MiB/);
});

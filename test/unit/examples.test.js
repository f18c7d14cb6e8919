'use strict';
// The example flows (Import > Examples) as a new user meets them: each on its own named tab, no two on the
// same event path, wires that run left to right, and the ones that need `npm start`'s local sinks say so in
// their tab name and their comment. The editor test (test/e2e/editor.test.js) checks how they look.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');

const DIR = path.join(__dirname, '..', '..', 'examples');
const EXAMPLES = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ name: f, flow: JSON.parse(fs.readFileSync(path.join(DIR, f), 'utf8')) }));

test('every example has one named tab, and every node but configuration nodes is on it', () => {
  assert.ok(EXAMPLES.length >= 5);
  for (const { name, flow } of EXAMPLES) {
    const tabs = flow.filter((n) => n.type === 'tab');
    assert.equal(tabs.length, 1, `${name}: one tab`);
    assert.ok(typeof tabs[0].label === 'string' && tabs[0].label.trim().length > 3, `${name}: the tab has a name`);
    for (const n of flow) {
      if (n.type === 'tab' || n.type === 'notifier-smtp') continue;
      assert.equal(n.z, tabs[0].id, `${name}: ${n.id} is on the tab`);
    }
  }
  const labels = EXAMPLES.map((e) => e.flow.find((n) => n.type === 'tab').label);
  assert.equal(new Set(labels).size, labels.length, 'tab names differ');
});

test('no two examples use the same event path', () => {
  const seen = new Map();
  for (const { name, flow } of EXAMPLES) {
    for (const n of flow.filter((x) => x.type === 'notifier-event' && x.path)) {
      const p = n.path.replace(/^\/?/, '/').toLowerCase();
      assert.ok(!seen.has(p), `${name} and ${seen.get(p)} both listen on ${p}`);
      seen.set(p, name);
    }
  }
});

test('wires run left to right (none loops back)', () => {
  for (const { name, flow } of EXAMPLES) {
    const byId = new Map(flow.map((n) => [n.id, n]));
    for (const n of flow) {
      for (const out of n.wires || []) {
        for (const id of out) {
          const target = byId.get(id);
          assert.ok(target, `${name}: ${n.id} is wired to ${id}, which is in the flow`);
          assert.ok(target.x > n.x, `${name}: ${n.id} (x ${n.x}) -> ${id} (x ${target.x}) loops back`);
        }
      }
    }
  }
});

test('an example that needs the local sinks of npm start says so in its tab name and its comment', () => {
  let needing = 0;
  for (const { name, flow } of EXAMPLES) {
    const local = flow.some(
      (n) => /^https?:\/\/127\.0\.0\.1:1881\b/.test(n.url || '') || (n.type === 'notifier-smtp' && /^(127\.0\.0\.1|localhost)$/.test(n.host || '')),
    );
    if (!local) continue;
    needing++;
    assert.match(flow.find((n) => n.type === 'tab').label, /npm start/, `${name}: the tab name says it needs npm start`);
    const comment = flow.find((n) => n.type === 'comment');
    assert.ok(comment, `${name}: a comment node`);
    assert.match(`${comment.name}\n${comment.info}`, /npm start/, `${name}: the comment says it needs npm start`);
  }
  assert.ok(needing >= 1, 'the local demo needs the sinks');
});

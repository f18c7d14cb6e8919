'use strict';
// The digest node's groups are durable, in a real Node-RED process: events posted to the event endpoint while a
// group is open, the process killed with SIGKILL, started again on the same user directory: the digest that goes
// out lists every event that got a 202 before the kill, no sooner than the wait after the first one, and the history
// shows it as "Digest of N events in …". A redeploy with a new configuration keeps what was collected; a removed node
// hands on what it held; a store that cannot write makes the endpoint answer 503.
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startRuntime, tmpDir } = require('../helpers/nr');
const { startChild, kill9, stopChild } = require('../fixtures/history-child');
const { startReceiver } = require('../helpers/receivers');
const { digestFlow: flow, digestOf, eventually, deployTo, numberedEvent, postJson, historyOf, mountTmpfs, remount } = require('../helpers/durable');
const { execFileSync } = require('node:child_process');

// the wait of digestFlow
const WAIT_S = 6;
const KILL_AFTER_ACCEPTED = 150;
const SENDERS = 16;

test('SIGKILL while a group is open: after the restart the digest lists every event accepted (202) before the kill, at its original time', async () => {
  const rx = await startReceiver();
  const userDir = tmpDir('pn-digest-kill-');
  let child = await startChild(userDir);
  try {
    await deployTo(child.adminUrl, flow(rx.url()));
    const url = `${child.nodeUrl}/bulk`;
    const accepted = new Set();
    // no event is held before the first request goes out: the digest is due no sooner than the wait after this
    const firstAt = Date.now();
    let next = 0;
    let killing;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (!killing) {
          const i = next++;
          const r = await postJson(url, numberedEvent(i, 'kill'));
          if (r.status === 202) accepted.add(`pkg-${i}`);
          if (!killing && accepted.size >= KILL_AFTER_ACCEPTED) killing = kill9(child);
        }
      }),
    );
    await killing;
    assert.equal(rx.requests.length, 0, 'nothing went out before the kill (the group was open)');
    const posted = next;

    child = await startChild(userDir);
    await eventually(() => rx.requests.length >= 1, 30_000, 'the digest after the restart');
    const d = digestOf(rx.requests[0].body);
    const listed = new Set(d.ids);
    const missing = [...accepted].filter((id) => !listed.has(id));
    assert.deepEqual(missing, [], 'every event accepted before the kill is in the digest');
    assert.equal(d.count, listed.size, 'counted once each');
    assert.ok(d.count <= posted, `no more than was posted (${d.count} of ${posted})`);
    assert.ok(rx.requests[0].at - firstAt >= WAIT_S * 1000, `not before the wait: ${rx.requests[0].at - firstAt} ms after the first request`);
    // the history (sidebar) shows the digest with its count
    let records = [];
    await eventually(async () => (records = await historyOf(child.adminUrl, 'wh')).length >= 1, 10_000, 'the record in the history');
    assert.equal(records[0].summary, `Digest of ${d.count} events in internal-utils/Promoted`);
    assert.equal(records[0].eventType, 'digest');
    console.log(`# ${accepted.size} accepted before SIGKILL (${posted} posted); the digest after the restart counts ${d.count}`);
  } finally {
    await stopChild(child);
    await rx.close();
  }
});

test('a redeploy with a new configuration keeps what was collected; a removed node hands on what it held', async () => {
  const rx = await startReceiver();
  const userDir = tmpDir('pn-digest-redeploy-');
  const child = await startChild(userDir);
  try {
    await deployTo(child.adminUrl, flow(rx.url(), { wait: '30' }));
    const url = `${child.nodeUrl}/bulk`;
    for (let i = 0; i < 5; i++) assert.equal((await postJson(url, numberedEvent(i, 'rd'))).status, 202);
    // the new configuration: a shorter wait; the collected events go at the group's stored time (30 s) unless flushed;
    // a removal hands them on, so here the node is changed, not removed
    await deployTo(child.adminUrl, flow(rx.url(), { wait: '1', threshold: '2' }), 'nodes');
    for (let i = 5; i < 7; i++) assert.equal((await postJson(url, numberedEvent(i, 'rd'))).status, 202);
    assert.equal(rx.requests.length, 0);
    // removing the digest node hands on what it held at once
    const removed = flow(rx.url()).filter((n) => n.id !== 'dg');
    removed.find((n) => n.id === 'ev').wires = [['wh']];
    await deployTo(child.adminUrl, removed, 'nodes');
    await eventually(() => rx.requests.length >= 1, 10_000, 'the digest handed on by the removed node');
    const d = digestOf(rx.requests[0].body);
    assert.deepEqual(d.ids.sort(), ['pkg-0', 'pkg-1', 'pkg-2', 'pkg-3', 'pkg-4', 'pkg-5', 'pkg-6']);
    assert.equal(fs.existsSync(path.join(userDir, 'notifier-store', 'digest', 'dg')), false, 'the removed node left nothing behind');
  } finally {
    await stopChild(child);
    await rx.close();
  }
});

test('a store that cannot write: the event endpoint answers 503 and nothing refused is handed on', async (t) => {
  const mountDir = tmpDir('pn-digest-mnt-');
  const problem = mountTmpfs(mountDir, '4m');
  if (problem) {
    if (process.env.CI) assert.fail(`cannot mount a tmpfs: ${problem}`);
    t.skip(`cannot mount a tmpfs (needs root): ${problem}`);
    return;
  }
  const rx = await startReceiver();
  const rt = await startRuntime({ settings: { notifierStore: { dir: mountDir } } });
  try {
    await rt.deploy(flow(rx.url(), { wait: '1', threshold: '1' }));
    const url = `${rt.nodeUrl}/bulk`;
    assert.equal((await postJson(url, numberedEvent(1, 'ro'))).status, 202);
    await remount(mountDir, 'ro');
    const refused = await postJson(url, numberedEvent(2, 'ro'));
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json.error, 'store unavailable');
    await remount(mountDir, 'rw');
    assert.equal((await postJson(url, numberedEvent(3, 'ro'))).status, 202);
    // a hand-over refused downstream (the webhook's outbox is on the same store) is tried again once it is writable
    const handed = () => rx.requests.flatMap((r) => digestOf(r.body).ids);
    await eventually(() => handed().includes('pkg-1') && handed().includes('pkg-3'), 20_000, 'the digests');
    await new Promise((r) => setTimeout(r, 1500));
    assert.deepEqual(handed().sort(), ['pkg-1', 'pkg-3'], 'the refused event was not handed on');
  } finally {
    await rt.stop();
    await rx.close();
    try {
      execFileSync('umount', [mountDir]);
    } catch {
      /* already gone */
    }
  }
});

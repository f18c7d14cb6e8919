'use strict';
// When the store cannot keep an event (the disk is full, or the directory is read-only) the event endpoint answers
// 503 with a JSON error, the node statuses say why, nothing is delivered for what was refused, and it all works again
// once space (or write access) returns. The store is a small tmpfs mounted for the test (needs root, as CI runs).
const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { startRuntime, tmpDir } = require('../helpers/nr');
const { startReceiver } = require('../helpers/receivers');
const { storeStatusFlows, eventually, numberedEvent, postJson, mountTmpfs, remount } = require('../helpers/durable');

/** An event larger than a page, so that it cannot fit in the free end of a page the store already has. */
function bigEvent(i) {
  const e = numberedEvent(i);
  e.vars.Padding = 'x'.repeat(12 * 1024);
  return e;
}

/** Fills the file system of `dir` with one file (until ENOSPC). */
function fill(dir) {
  const file = path.join(dir, 'filler');
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(64 * 1024, 1);
  try {
    for (;;) fs.writeSync(fd, chunk);
  } catch (err) {
    if (err.code !== 'ENOSPC') throw err;
  } finally {
    fs.closeSync(fd);
  }
  // the last partial blocks too
  try {
    for (;;) fs.appendFileSync(file, Buffer.alloc(512, 1));
  } catch (err) {
    if (err.code !== 'ENOSPC') throw err;
  }
  return file;
}

test('disk full or read-only store: 503 with a JSON error and a status that says why; it recovers when space returns', async (t) => {
  const mountDir = tmpDir('pn-store-mnt-');
  const problem = mountTmpfs(mountDir, '2m');
  if (problem) {
    if (process.env.CI) assert.fail(`cannot mount a tmpfs for the disk-full test: ${problem}`);
    t.skip(`cannot mount a tmpfs (needs root): ${problem}`);
    return;
  }
  const rx = await startReceiver();
  const rt = await startRuntime({ settings: { notifierStore: { dir: mountDir } } });
  try {
    await rt.deploy(storeStatusFlows(rx.url()));
    const statuses = rt.inbox('dbg');
    const url = `${rt.nodeUrl}/store`;
    assert.equal((await postJson(url, numberedEvent(1))).status, 202);
    await eventually(() => rx.requests.length === 1, 5000, 'the first delivery');

    const filler = fill(mountDir);
    const refused = await postJson(url, bigEvent(2));
    assert.equal(refused.status, 503, refused.text);
    assert.equal(refused.json.error, 'store unavailable');
    assert.match(refused.json.details, /not stored|ENOSPC|no space/i);
    await statuses.until((m) => m.status?.source?.id === 'ev' && /store unavailable/.test(m.status.text), 3000);
    await statuses.until((m) => m.status?.source?.id === 'wh' && /store unavailable/.test(m.status.text), 3000);

    fs.rmSync(filler);
    const again = await postJson(url, numberedEvent(3));
    assert.equal(again.status, 202, again.text);
    await eventually(() => rx.requests.length === 2, 5000, 'the delivery after space returned');

    await remount(mountDir, 'ro');
    const readOnly = await postJson(url, bigEvent(4));
    assert.equal(readOnly.status, 503, readOnly.text);
    assert.match(readOnly.json.details, /EROFS|read-only/i);
    await remount(mountDir, 'rw');
    const back = await postJson(url, numberedEvent(5));
    assert.equal(back.status, 202, back.text);
    await eventually(() => rx.requests.length === 3, 5000, 'the delivery after the store is writable again');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(
      rx.requests.map((r) => r.body),
      ['pkg-1', 'pkg-3', 'pkg-5'],
      'nothing refused was delivered',
    );
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

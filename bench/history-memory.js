'use strict';
// Memory of the dispatch history: 100,000 records over 100 notifiers written through the durable store
// (src/core/history: journal on disk, fsync per batch, compaction) with the default limit of 50. Memory must hold
// at most limit x notifiers records (5,000) however many are written; we print that, the peak RSS and heap, the
// journal size on disk and the write rate.
// Peer: the naive history (every record kept in an in-memory array, as a flow keeping its log in context would),
// given the same records. Results (ratio > 1 means we are better):
//   history-memory-records: records held in memory, ours vs. the peer (= records written)
//   history-memory-heap:    heap growth while writing (MB), ours vs. the peer
// Usage: node bench/history-memory.js [--json] [--count n] [--notifiers n] [--limit n]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const MB = 1024 * 1024;

function round(v, digits = 2) {
  if (!Number.isFinite(v)) return v;
  if (Math.abs(v) >= 100) return Math.round(v);
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function detail(...parts) {
  process.stderr.write(parts.join(' ') + '\n');
}

function gc() {
  if (typeof global.gc === 'function') {
    global.gc();
    global.gc();
  }
}

/** Samples RSS and heap while `fn` runs; resolves with fn's value and the peaks. */
async function sampled(fn) {
  let peakRss = 0;
  let peakHeap = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
  };
  const timer = setInterval(sample, 20);
  try {
    const value = await fn(sample);
    sample();
    return { value, peakRss, peakHeap };
  } finally {
    clearInterval(timer);
  }
}

function makeRecordFactory(sampleEvent) {
  const events = ['package.added', 'package.promoted', 'sca.new-vulnerability', 'sca.build-issues-opened'].map((c) => sampleEvent(c));
  const body = JSON.stringify({
    package: 'MyCorp.CoolUtils',
    version: '3.2.0-pre.1',
    event: 'Added',
    user: 'API',
    feed: 'internal-utils',
    padding: 'x'.repeat(300),
  });
  return (i, notifiers) => {
    const n = i % notifiers;
    const event = { ...events[i % events.length], id: `evt-${i}` };
    return {
      event,
      dispatch: {
        id: `rec-${i}`,
        notifier: `Notifier ${n}`,
        notifierId: `node-${n}`,
        channel: n % 2 ? 'slack' : 'webhook',
        eventId: event.id,
        eventType: event.type,
        feed: 'internal-utils',
        summary: `MyCorp.CoolUtils 3.2.0-pre.${i} Added on internal-utils by API`,
        outcome: i % 7 ? 'delivered' : 'failed',
        attempts: i % 7 ? 1 : 3,
        startedAt: new Date(1767225600000 + i).toISOString(),
        durationMs: 10 + (i % 50),
        request: {
          method: 'POST',
          url: `https://hooks.example.com/n/${n}`,
          headers: { 'Content-Type': 'application/json', 'webhook-id': `msg_${i}`, 'webhook-signature': 'v1,abc' },
          body,
        },
        response: { status: i % 7 ? 200 : 503, body: i % 7 ? 'ok' : 'Service Unavailable' },
        ...(i % 7 ? {} : { error: { code: 'http_503', message: 'HTTP 503 Service Unavailable', permanent: false } }),
      },
    };
  };
}

async function run(options = {}) {
  const count = options.count ?? 100000;
  const notifiers = options.notifiers ?? 100;
  const limit = options.limit ?? 50;
  const concurrency = options.concurrency ?? 1000;
  const { HistoryStore } = require(path.join(ROOT, 'dist', 'core', 'history'));
  const { sampleEvent } = require(path.join(ROOT, 'dist', 'core', 'events'));
  const make = makeRecordFactory(sampleEvent);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pn-bench-history-'));

  try {
    // ---- ours: the durable store
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = process.hrtime.bigint();
    let maxLiveHeap = 0;
    const ours = await sampled(async (sample) => {
      const store = new HistoryStore(dir, { defaultLimit: limit });
      await store.whenReady();
      for (let i = 0; i < count; i += concurrency) {
        if (typeof global.gc === 'function' && i % 10000 === 0 && i > 0) {
          // live heap (after a full GC) every 10,000 records: it must not grow with the records written
          global.gc();
          maxLiveHeap = Math.max(maxLiveHeap, process.memoryUsage().heapUsed - heapBefore);
        }
        const writes = [];
        for (let j = i; j < Math.min(count, i + concurrency); j++) {
          const r = make(j, notifiers);
          writes.push(store.keep(r.dispatch, r.event));
        }
        await Promise.all(writes);
        sample();
      }
      const stats = store.stats();
      const perNotifier = store.listNotifiers().map((n) => n.kept);
      await store.close();
      return { stats, perNotifier, store };
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const oursMaxRss = process.resourceUsage().maxRSS * 1024;
    const { stats, perNotifier } = ours.value;
    gc();
    const heapHeld = process.memoryUsage().heapUsed - heapBefore; // the store is still referenced: what it holds
    const journalBytes = fs.statSync(path.join(dir, 'journal.jsonl')).size;
    ours.value.store = null;

    // ---- peer: every record in an array
    gc();
    const peerHeapBefore = process.memoryUsage().heapUsed;
    const peer = await sampled(async (sample) => {
      const log = [];
      for (let i = 0; i < count; i++) {
        const r = make(i, notifiers);
        log.push({ ...r.dispatch, keptAt: new Date().toISOString(), event: r.event });
        if (i % concurrency === 0) sample();
      }
      return log;
    });
    gc();
    const peerHeapHeld = process.memoryUsage().heapUsed - peerHeapBefore;
    const peerCount = peer.value.length;
    peer.value = null;

    const maxKept = Math.max(...perNotifier);
    const bounded = stats.recordsInMemory <= limit * notifiers && maxKept <= limit;
    detail(
      `history-memory: ${stats.recordsWritten.toLocaleString('en-US')} records written over ${stats.notifiers} notifiers (limit ${limit}) in ${round(seconds)} s ` +
        `(${Math.round(stats.recordsWritten / seconds).toLocaleString('en-US')} records/s, fsync per batch of up to ${concurrency})`,
    );
    detail(
      `  kept in memory: ${stats.recordsInMemory.toLocaleString('en-US')} records (at most ${limit} x ${notifiers} = ${(limit * notifiers).toLocaleString('en-US')}: ${bounded ? 'yes' : 'NO'}; ` +
        `largest notifier ${maxKept})`,
    );
    detail(
      `  ours: peak RSS ${round(Math.max(ours.peakRss, oursMaxRss) / MB)} MB, peak heap ${round(ours.peakHeap / MB)} MB (with garbage), ` +
        `live heap at most ${round(maxLiveHeap / MB)} MB (after GC, every 10,000 records), heap held after ${round(heapHeld / MB)} MB; ` +
        `journal ${round(journalBytes / MB)} MB on disk, ${stats.journalLines.toLocaleString('en-US')} lines, ${stats.compactions} compactions`,
    );
    detail(
      `  peer (all records in an array): ${peerCount.toLocaleString('en-US')} records, peak heap ${round(peer.peakHeap / MB)} MB, heap held ${round(peerHeapHeld / MB)} MB`,
    );
    if (typeof global.gc !== 'function') detail('  (run with --expose-gc for exact heap figures)');

    return [
      {
        name: 'history-memory-records',
        ours: stats.recordsInMemory,
        peer: peerCount,
        unit: 'records in memory',
        ratio: round(peerCount / stats.recordsInMemory, 3),
      },
      {
        name: 'history-memory-heap',
        ours: round(heapHeld / MB),
        peer: round(peerHeapHeld / MB),
        unit: 'MB heap held',
        ratio: round(peerHeapHeld / Math.max(heapHeld, 1), 3),
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

module.exports = { run };

if (require.main === module) {
  const args = process.argv.slice(2);
  const opt = (name) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args[i + 1]) : undefined;
  };
  const options = {};
  if (opt('--count')) options.count = opt('--count');
  if (opt('--notifiers')) options.notifiers = opt('--notifiers');
  if (opt('--limit')) options.limit = opt('--limit');
  run(options)
    .then((results) => {
      for (const r of results) {
        if (args.includes('--json')) console.log(JSON.stringify(r));
        else console.log(`${r.name}: ours ${r.ours} vs peer ${r.peer} ${r.unit} (ratio ${r.ratio})`);
      }
    })
    .catch((err) => {
      console.error(err);
      process.exitCode = 1;
    });
}

'use strict';
// For the durable-delivery tests: deploying flows to a Node-RED child process over its admin API, posting events,
// reading a notifier's whole history, and a free port for an event node of its own.
const net = require('node:net');
const { execFileSync } = require('node:child_process');
const { sampleEvent } = require('../../dist/core/events');

/** Deploys `flows` (nodes may carry `credentials`) to the runtime at `adminUrl`; `type`: full, nodes or flows. */
async function deployTo(adminUrl, flows, type = 'full') {
  const res = await fetch(`${adminUrl}/flows`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': type },
    body: JSON.stringify({ flows }),
  });
  if (res.status !== 200) throw new Error(`deploy failed: ${res.status} ${await res.text()}`);
  // the flows start after the answer: give them a moment
  await new Promise((r) => setTimeout(r, 300));
}

/** A package.promoted event with its own id and package name `pkg-<i>` (the receiver tells them apart by it). */
function numberedEvent(i, prefix = 'ev') {
  const base = sampleEvent('package.promoted');
  return { id: `${prefix}-${i}`, type: base.type, vars: { ...base.vars, PackageId: `pkg-${i}` } };
}

/**
 * The flow of the SIGKILL burst tests: POST /burst → notifier-webhook (the event's package name as the body, to
 * `url`) → notifier-history (10,000 records).
 */
function burstFlows(url) {
  return [
    { id: 'tab', type: 'tab', label: 'burst' },
    { id: 'ev', type: 'notifier-event', z: 'tab', path: '/burst', events: [], auth: 'none', wires: [['wh']] },
    {
      id: 'wh',
      type: 'notifier-webhook',
      z: 'tab',
      name: 'burst hook',
      url,
      headers: 'Content-Type: text/plain',
      content: '$PackageId',
      timeout: '5',
      retries: '10',
      rate: '0',
      wires: [['hist']],
    },
    { id: 'hist', type: 'notifier-history', z: 'tab', limit: 10000, wires: [[]] },
  ];
}

/**
 * The flow of the store-failure tests: POST /store → notifier-webhook (to `url`), and a status node sending the
 * statuses of both to debug node `dbg` (read them with `rt.inbox('dbg')`).
 */
function storeStatusFlows(url) {
  return [
    { id: 'tab', type: 'tab', label: 'store' },
    { id: 'ev', type: 'notifier-event', z: 'tab', path: '/store', events: [], auth: 'none', wires: [['wh']] },
    {
      id: 'wh',
      type: 'notifier-webhook',
      z: 'tab',
      name: 'store hook',
      url,
      headers: 'Content-Type: text/plain',
      content: '$PackageId',
      rate: '0',
      wires: [[]],
    },
    { id: 'st', type: 'status', z: 'tab', scope: ['ev', 'wh'], wires: [['dbg']] },
    { id: 'dbg', type: 'debug', z: 'tab', active: false, wires: [] },
  ];
}

/** POSTs JSON; resolves { status, json } or { error } when the connection failed (a killed runtime). */
async function postJson(url, body, headers = {}) {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, json, text };
  } catch (err) {
    return { error: err };
  }
}

/**
 * Every record the history keeps for `notifierId` (pages of 1,000, newest first). Records kept while the pages are
 * read shift the pages, so the read is repeated until two in a row agree.
 */
async function historyOf(adminUrl, notifierId) {
  let last = await historyPages(adminUrl, notifierId);
  for (let i = 0; i < 50; i++) {
    const again = await historyPages(adminUrl, notifierId);
    if (again.length === last.length && again.every((r, k) => r.id === last[k].id)) return again;
    last = again;
    await new Promise((r) => setTimeout(r, 100));
  }
  return last;
}

async function historyPages(adminUrl, notifierId) {
  const all = [];
  for (let offset = 0; ; offset += 1000) {
    const res = await fetch(`${adminUrl}/notifier-history/${encodeURIComponent(notifierId)}?offset=${offset}&limit=1000`);
    if (res.status === 404) return all;
    if (res.status !== 200) throw new Error(`history: ${res.status} ${await res.text()}`);
    const page = await res.json();
    all.push(...page.records);
    if (page.records.length < 1000) return all;
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Requests the receiver got, by the X-Notifier-Delivery id of each (a Map id → requests). */
function byDeliveryId(requests) {
  const map = new Map();
  for (const r of requests) {
    const id = r.headers['x-notifier-delivery'];
    if (!map.has(id)) map.set(id, []);
    map.get(id).push(r);
  }
  return map;
}

/** Resolves once the (async) predicate holds; rejects after `timeoutMs`, naming what it waited for. */
async function eventually(pred, timeoutMs, what) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await pred()) return;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Mounts a tmpfs of `size` on `dir` (needs root); answers why not, or undefined once mounted. */
function mountTmpfs(dir, size) {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    return String(err.stderr || err.message).trim();
  }
}

/** Remounts read-only or read-write; a write that is in progress makes the kernel answer "busy" for a moment. */
async function remount(dir, mode) {
  for (let i = 0; ; i++) {
    try {
      execFileSync('mount', ['-o', `remount,${mode}`, dir], { stdio: 'pipe' });
      return;
    } catch (err) {
      if (i >= 50 || !/busy/.test(String(err.stderr))) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

/** Event endpoint /bulk → notifier-digest `dg` (wait 6 s, threshold 3, interval 60 s) → webhook `wh` to `rxUrl` → history. */
function digestFlow(rxUrl, digest = {}) {
  return [
    { id: 'tab', type: 'tab', label: 'digest durable' },
    { id: 'ev', type: 'notifier-event', z: 'tab', path: '/bulk', events: [], auth: 'none', wires: [['dg']] },
    {
      id: 'dg',
      type: 'notifier-digest',
      z: 'tab',
      name: 'kept digest',
      wait: '6',
      threshold: '3',
      interval: '60',
      maxEvents: '10000',
      wires: [['wh']],
      ...digest,
    },
    {
      id: 'wh',
      type: 'notifier-webhook',
      z: 'tab',
      name: 'digest hook',
      url: rxUrl,
      method: 'POST',
      content: '',
      timeout: '5',
      retries: '5',
      rate: '0',
      wires: [['hist']],
    },
    { id: 'hist', type: 'notifier-history', z: 'tab', limit: 50, wires: [[]] },
  ];
}

/** The package ids a webhook digest lists, and the count it states. */
function digestOf(body) {
  const d = JSON.parse(body);
  return { count: Number(d.eventCount), ids: d.events.map((e) => e.PackageId) };
}

module.exports = {
  digestFlow,
  digestOf,
  burstFlows,
  storeStatusFlows,
  eventually,
  deployTo,
  numberedEvent,
  postJson,
  historyOf,
  freePort,
  byDeliveryId,
  mountTmpfs,
  remount,
};

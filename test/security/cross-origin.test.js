'use strict';
// A web page on another origin cannot post events (Chromium, a real runtime with Node-RED's default roots,
// where Node-RED 4's editor API answers every request with `Access-Control-Allow-Origin: *`): its preflight is
// refused and carries no CORS header, its request never reaches the node, while the same request from a
// page of the runtime's own origin is accepted. The event node's own port refuses other origins too.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const net = require('node:net');
const { startRuntime, NR5 } = require('../helpers/nr');
const { chromiumMissing, launch } = require('../helpers/browser');

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

let rt;
let ownPort;
let evil;
const EVENT = { event: 'package.promoted', PackageId: 'Cross.Origin', PackageVersion: '1.0.0', FeedName: 'internal' };

test.before(async () => {
  ownPort = await freePort();
  rt = await startRuntime();
  await rt.deploy([
    { id: 't1', type: 'tab', label: 'cors' },
    { id: 'ev', z: 't1', type: 'notifier-event', path: '/proget/events', events: [], auth: 'none', wires: [['dbg']] },
    {
      id: 'own',
      z: 't1',
      type: 'notifier-event',
      path: '/events',
      port: String(ownPort),
      host: '127.0.0.1',
      events: [],
      auth: 'none',
      wires: [['dbg']],
    },
    { id: 'dbg', z: 't1', type: 'debug', active: false },
  ]);
  // the attacker's page, on another origin (another port of 127.0.0.1)
  evil = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>evil</title><p>nothing to see</p>');
  });
  await new Promise((r) => evil.listen(0, '127.0.0.1', r));
});
test.after(async () => {
  if (rt) await rt.stop();
  if (evil) await new Promise((r) => evil.close(r));
});

test('a preflight from another origin is refused without any CORS header, on the shared root and on the own port', async () => {
  for (const url of [`${rt.nodeUrl}/proget/events`, `http://127.0.0.1:${ownPort}/events`]) {
    const res = await fetch(url, {
      method: 'OPTIONS',
      headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    assert.equal(res.status, 403, url);
    assert.equal(res.headers.get('access-control-allow-origin'), null, url);
    const post = await fetch(url, {
      method: 'POST',
      headers: { Origin: 'http://evil.example', 'content-type': 'text/plain' },
      body: JSON.stringify(EVENT),
    });
    assert.equal(post.status, 403, url);
    assert.equal(post.headers.get('access-control-allow-origin'), null, url);
  }
  // elsewhere on the admin root Node-RED's own CORS answer is unchanged: Node-RED 4's editor API allows any
  // origin (which is where the endpoint's `*` came from); Node-RED 5 dropped that
  const admin = await fetch(`${rt.adminUrl}/settings`, {
    method: 'OPTIONS',
    headers: { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'GET' },
  });
  assert.equal(admin.headers.get('access-control-allow-origin'), NR5 ? null : '*');
  // a server-to-server request (no Origin) is accepted and carries no CORS header
  const server = await fetch(`${rt.nodeUrl}/proget/events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(EVENT),
  });
  assert.equal(server.status, 202);
  assert.equal(server.headers.get('access-control-allow-origin'), null);
});

test("in Chromium, a page on another origin cannot post an event; a page of the runtime's own origin can", { timeout: 120000 }, async (t) => {
  if (chromiumMissing(t)) return;
  const browser = await launch();
  t.after(() => browser.close());
  const box = rt.inbox('dbg');
  const before = box.all.length;
  const page = await browser.newPage();
  const attempt = (url, body, contentType) =>
    page.evaluate(
      async ({ url, body, contentType }) => {
        try {
          const r = await fetch(url, { method: 'POST', headers: { 'content-type': contentType }, body });
          return { status: r.status, text: await r.text() };
        } catch (err) {
          return { error: String(err) };
        }
      },
      { url, body, contentType },
    );

  await page.goto(`http://127.0.0.1:${evil.address().port}/`);
  const body = JSON.stringify({ ...EVENT, PackageId: 'From.Evil.Page' });
  for (const url of [`${rt.nodeUrl}/proget/events`, `http://127.0.0.1:${ownPort}/events`]) {
    const json = await attempt(url, body, 'application/json');
    assert.ok(json.error, `JSON post from another origin to ${url} must fail, got ${JSON.stringify(json)}`);
    const simple = await attempt(url, body, 'text/plain'); // a "simple" request: no preflight, refused by the node
    assert.ok(simple.error || simple.status >= 400, JSON.stringify(simple));
  }

  // the same page content from the runtime's own origin (the editor's) posts fine
  await page.goto(`${rt.nodeUrl}/proget/events`);
  const own = await attempt(`${rt.nodeUrl}/proget/events`, JSON.stringify({ ...EVENT, PackageId: 'From.Own.Origin' }), 'application/json');
  assert.equal(own.status, 202, JSON.stringify(own));
  await box.until((m) => m.event?.vars.PackageId === 'From.Own.Origin');
  const fromEvil = box.all.slice(before).filter((m) => m.event?.vars.PackageId === 'From.Evil.Page');
  assert.equal(fromEvil.length, 0, 'no event from the other origin came out');
});

'use strict';
// The HTTP transport (node:http) against a real server on 127.0.0.1: compressed answers are decoded,
// long answers are cut at the maximum without losing the status, bad URLs and headers are refused
// before anything is sent, and an abort stops a hung request.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const zlib = require('node:zlib');
const { HttpTransport, HttpTransportError } = require('../../dist/core/delivery');

let server;
let base;
const seen = [];
test.before(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ url: req.url, headers: req.headers, body });
      if (req.url === '/gzip') {
        res.writeHead(200, { 'content-encoding': 'gzip', 'content-type': 'text/plain' });
        return res.end(zlib.gzipSync('hello compressed'));
      }
      if (req.url === '/big') {
        res.writeHead(500);
        return res.end('x'.repeat(200_000));
      }
      if (req.url === '/hang') return; // never answers
      res.writeHead(201, { 'x-answer': 'yes' });
      res.end(`echo ${body}`);
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
test.after(() => {
  server.closeAllConnections();
  server.close();
});

const ctx = () => ({ signal: new AbortController().signal, timeoutMs: 5000 });

test('sends method, headers and body, and reads status, headers and body', async () => {
  const t = new HttpTransport();
  const res = await t.send({ method: 'post', url: `${base}/x`, headers: { 'Content-Type': 'application/json' }, body: '{"a":"é"}' }, ctx());
  assert.equal(res.status, 201);
  assert.equal(res.headers['x-answer'], 'yes');
  assert.equal(res.body, 'echo {"a":"é"}');
  const req = seen.at(-1);
  assert.equal(req.headers['content-length'], String(Buffer.byteLength('{"a":"é"}')));
  assert.equal(req.headers['user-agent'], 'package-notifiers-node-red');
  t.destroy();
});

test('a gzip answer is decompressed', async () => {
  const t = new HttpTransport();
  const res = await t.send({ method: 'GET', url: `${base}/gzip`, headers: {} }, ctx());
  assert.equal(res.body, 'hello compressed');
  t.destroy();
});

test('a long answer is cut at the maximum and keeps its status', async () => {
  const t = new HttpTransport({ maxResponseBytes: 1000 });
  const res = await t.send({ method: 'GET', url: `${base}/big`, headers: {} }, ctx());
  assert.equal(res.status, 500);
  assert.equal(res.body.length, 1000);
  assert.equal(res.truncated, true);
  t.destroy();
});

test('a bad URL or a header with a line break is refused before sending', async () => {
  const t = new HttpTransport();
  const before = seen.length;
  await assert.rejects(
    t.send({ method: 'GET', url: 'not a url', headers: {} }, ctx()),
    (e) => e instanceof HttpTransportError && e.code === 'ERR_INVALID_URL',
  );
  await assert.rejects(t.send({ method: 'GET', url: 'ftp://127.0.0.1/x', headers: {} }, ctx()), (e) => e.code === 'ERR_INVALID_URL');
  await assert.rejects(t.send({ method: 'GET', url: `${base}/x`, headers: { 'X-Bad': 'a\r\nInjected: yes' } }, ctx()), HttpTransportError);
  assert.equal(seen.length, before, 'nothing reached the server');
  t.destroy();
});

test('an abort stops a request that gets no answer', async () => {
  const t = new HttpTransport();
  const ac = new AbortController();
  setTimeout(() => ac.abort(new Error('timeout')), 100);
  await assert.rejects(
    t.send({ method: 'GET', url: `${base}/hang`, headers: {} }, { signal: ac.signal, timeoutMs: 60000 }),
    (e) => e.code === 'ERR_CANCELED',
  );
  t.destroy();
});

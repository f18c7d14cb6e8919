'use strict';
// The egress policy (CIDR deny/allow on every spelling of an address, at connect time), the proxy choice
// (as Node-RED's http request node makes it) and the webhook's literal-origin / allowedHosts rules.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const {
  EgressPolicy,
  HttpTransport,
  proxyForUrl,
  literalOrigin,
  parseAllowedHosts,
  hostAllowed,
  ConfigError,
  classifyTransportError,
} = require('../../dist/core/delivery');
const { usesTemplate } = require('../../dist/core/channels/templates');

const host = (spelling) => new URL(`http://${spelling}/`).hostname;

test('default policy: link-local and metadata denied in every spelling; loopback and private ranges allowed', () => {
  const p = new EgressPolicy();
  for (const s of [
    '169.254.169.254',
    '0xa9fea9fe',
    '2852039166',
    '169.254.43518',
    '[::ffff:169.254.169.254]',
    '[0:0:0:0:0:ffff:a9fe:a9fe]',
    '[fe80::1]',
    '[fd00:ec2::254]',
    '0.0.0.0',
  ]) {
    assert.equal(p.denies(host(s)), true, s);
  }
  for (const s of ['127.0.0.1', '10.1.2.3', '192.168.1.1', '172.16.0.1', '[::1]', '[fd00::1]', '8.8.8.8']) assert.equal(p.denies(host(s)), false, s);
});

test('notifierEgress.deny adds ranges; allow wins; loopback spellings all denied once 127.0.0.0/8 is', () => {
  const p = new EgressPolicy({ deny: ['127.0.0.0/8', '10.0.0.0/8'], allow: ['10.1.0.0/16', '169.254.10.10'] });
  for (const s of ['127.0.0.1', '0x7f000001', '2130706433', '127.1', '[::ffff:127.0.0.1]', '[::ffff:7f00:1]', '10.2.0.1'])
    assert.equal(p.denies(host(s)), true, s);
  for (const s of ['10.1.2.3', '169.254.10.10', '192.168.0.1', '[::1]']) assert.equal(p.denies(host(s)), false, s);
  assert.throws(() => new EgressPolicy({ deny: ['10.0.0.0/33'] }), ConfigError);
  assert.throws(() => new EgressPolicy({ deny: ['example.com'] }), /not an address or CIDR/);
  assert.throws(() => new EgressPolicy({ deny: '127.0.0.0/8' }), /list of CIDR/);
});

test('the lookup refuses a name that resolves to a denied address; no connection is made', async () => {
  let connections = 0;
  const server = http.createServer((req, res) => res.end('ok'));
  server.on('connection', () => connections++);
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const port = server.address().port;
  const t = new HttpTransport({ egress: new EgressPolicy({ deny: ['127.0.0.0/8', '::1/128'] }), env: {} });
  const ctx = { signal: new AbortController().signal, timeoutMs: 5000 };
  try {
    for (const url of [
      `http://localhost:${port}/`,
      `http://0x7f000001:${port}/`,
      `http://[::ffff:127.0.0.1]:${port}/`,
      `http://2130706433:${port}/`,
    ]) {
      await assert.rejects(t.send({ method: 'GET', url, headers: {} }, ctx), (e) => e.code === 'egress_denied', url);
    }
    const r = classifyTransportError(Object.assign(new Error('x'), { code: 'egress_denied' }));
    assert.equal(r.kind, 'permanent');
    assert.equal(connections, 0);
    const open = new HttpTransport({ env: {} });
    assert.equal((await open.send({ method: 'GET', url: `http://localhost:${port}/`, headers: {} }, ctx)).status, 200);
    open.destroy();
  } finally {
    t.destroy();
    server.close();
  }
});

test('proxy choice as Node-RED: <proto>_proxy in either case, all_proxy, NO_PROXY names, suffixes, ports and *', () => {
  const u = (s) => new URL(s);
  assert.equal(proxyForUrl(u('http://a.example.com/x'), { HTTP_PROXY: 'http://p:3128' }), 'http://p:3128');
  assert.equal(proxyForUrl(u('https://a.example.com/x'), { http_proxy: 'http://p:3128' }), '');
  assert.equal(proxyForUrl(u('https://a.example.com/x'), { https_proxy: 'p:3129' }), 'https://p:3129');
  assert.equal(proxyForUrl(u('https://a.example.com/x'), { ALL_PROXY: 'http://all:1' }), 'http://all:1');
  const env = { HTTPS_PROXY: 'http://p:3128', no_proxy: 'internal.corp, .example.com, other:8443' };
  assert.equal(proxyForUrl(u('https://internal.corp/'), env), '');
  assert.equal(proxyForUrl(u('https://a.example.com/'), env), '');
  assert.equal(proxyForUrl(u('https://other:8443/'), env), '');
  assert.equal(proxyForUrl(u('https://other/'), env), 'http://p:3128');
  assert.equal(proxyForUrl(u('https://hooks.slack.com/'), env), 'http://p:3128');
  assert.equal(proxyForUrl(u('https://hooks.slack.com/'), { ...env, NO_PROXY: '*', no_proxy: undefined }), '');
});

test('literal origins and allowed hosts', () => {
  assert.equal(literalOrigin('https://hooks.example.com/a/$FeedName?x=$PackageId', usesTemplate), 'https://hooks.example.com');
  assert.equal(literalOrigin('http://127.0.0.1:8080#$X', usesTemplate), 'http://127.0.0.1:8080');
  for (const src of ['$WebBaseUrl/hook', 'https://$Host/x', 'https://hooks.example.com$Path', 'https://example.com:$Port/', 'https://`$x/']) {
    assert.equal(literalOrigin(src, usesTemplate), undefined, src);
  }
  const allowed = parseAllowedHosts('hooks.example.com, *.corp.example  127.0.0.1');
  assert.deepEqual(allowed, ['hooks.example.com', '*.corp.example', '127.0.0.1']);
  assert.equal(hostAllowed('hooks.example.com', allowed), true);
  assert.equal(hostAllowed('a.b.corp.example', allowed), true);
  assert.equal(hostAllowed('corp.example', allowed), false);
  assert.equal(hostAllowed('evilcorp.example', allowed), false);
  assert.equal(hostAllowed(host('0x7f000001'), allowed), true);
  assert.throws(() => parseAllowedHosts('https://x/y'), /not a host name/);
});

test("a proxy's answer to CONNECT: 407 and other refusals are permanent, 502/503/504 are retried", () => {
  const err = (code) => Object.assign(new Error(code), { code });
  assert.equal(classifyTransportError(err('proxy_407')).kind, 'permanent');
  assert.equal(classifyTransportError(err('proxy_403')).kind, 'permanent');
  for (const c of ['proxy_502', 'proxy_503', 'proxy_504']) assert.equal(classifyTransportError(err(c)).kind, 'retryable', c);
});

'use strict';
// Reliability: thousands of generated bodies (fuzzed JSON, wrong types, huge strings, deep nesting,
// odd encodings and content types) posted to the event endpoint of a real Node-RED runtime with its
// default roots, and the hostile shapes (many keys, long digit runs, long lists, reserved names). Every
// answer must be 2xx or 4xx with a JSON body, and the runtime keeps serving.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const fc = require('fast-check');
const { startRuntime } = require('../helpers/nr');

const COUNT = Number(process.env.FUZZ_COUNT || 5000);
const SEED_BODIES = [
  { package: 'MyCorp.CoolUtils', version: '3.2.0-pre.1', event: 'Promoted', user: 'API', feed: 'internal-utils' },
  { package: 'MyCorp.CoolUtils', version: '3.2.0-pre.1', result: 'Noncompliant', details: 'x', feed: 'internal-utils' },
  {
    packages: [{ Name: 'nuget:Newtonsoft.Json', AffectedVersions: '< 13.0.1.' }],
    vulnerabilityId: 'PGV-2245804',
    summary: 's',
    severity: 'High',
    score: '7.5',
  },
  { issues: [{ Sequence: '1', Detail: 'd' }], buildNumber: '25.4.2', releaseNumber: 'v25-Q4', projectName: 'XAPUtil.Web' },
];

/** One generated request: body bytes plus headers. */
const anyValue = fc.oneof(
  fc.string(),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.string(), { maxLength: 5 }),
  fc.dictionary(fc.string(), fc.string(), { maxKeys: 5 }),
  fc.jsonValue({ maxDepth: 3 }),
);
const mutatedSeed = fc
  .tuple(
    fc.constantFrom(...SEED_BODIES),
    fc.array(
      fc.tuple(
        fc.constantFrom(
          'package',
          'version',
          'event',
          'user',
          'feed',
          'packages',
          'score',
          'severity',
          'issues',
          'buildNumber',
          'result',
          'vulnerabilityId',
          'id',
          'occurredAt',
          'type',
          'vars',
          '$PackageId',
          'FeedName',
          '__proto__',
          'constructor',
        ),
        anyValue,
      ),
      { maxLength: 4 },
    ),
  )
  .map(([seed, edits]) => {
    const body = JSON.parse(JSON.stringify(seed));
    for (const [k, v] of edits) body[k] = v;
    return { body: Buffer.from(JSON.stringify(body)), type: 'application/json' };
  });
const randomJson = fc.jsonValue({ maxDepth: 6 }).map((v) => ({ body: Buffer.from(JSON.stringify(v) ?? 'null'), type: 'application/json' }));
const hugeString = fc.integer({ min: 10_000, max: 600_000 }).map((n) => ({
  body: Buffer.from(JSON.stringify({ ...SEED_BODIES[0], user: 'x'.repeat(n) })),
  type: 'application/json',
}));
const overLimit = fc.constant({ body: Buffer.alloc(1024 * 1024 + 10, 0x20), type: 'application/json' });
const deep = fc.integer({ min: 20, max: 20_000 }).map((n) => ({ body: Buffer.from('['.repeat(n) + ']'.repeat(n)), type: 'application/json' }));
const deepInVars = fc.integer({ min: 17, max: 5000 }).map((n) => ({
  body: Buffer.from(`{"event":"Promoted","PackageId":"a","PackageVersion":"1","FeedName":"f","X":${'['.repeat(n)}${']'.repeat(n)}}`),
  type: 'application/json',
}));
const randomBytes = fc.uint8Array({ maxLength: 2000 }).map((b) => ({ body: Buffer.from(b), type: 'application/json' }));
const truncated = fc.tuple(fc.constantFrom(...SEED_BODIES), fc.nat()).map(([seed, cut]) => {
  const text = JSON.stringify(seed);
  return { body: Buffer.from(text.slice(0, cut % text.length)), type: 'application/json' };
});
const oddEncoding = fc.tuple(fc.constantFrom(...SEED_BODIES), fc.constantFrom('utf16le', 'latin1', 'bom', 'nul')).map(([seed, enc]) => {
  const text = JSON.stringify(seed);
  if (enc === 'utf16le') return { body: Buffer.from(text, 'utf16le'), type: 'application/json; charset=utf-16' };
  if (enc === 'latin1') return { body: Buffer.from(text.replace('API', 'Ämöß'), 'latin1'), type: 'application/json; charset=iso-8859-1' };
  if (enc === 'bom') return { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(text)]), type: 'application/json' };
  return { body: Buffer.from(text.replace('API', 'A\u0000PI')), type: 'application/json' };
});
const oddType = fc
  .tuple(
    fc.constantFrom(...SEED_BODIES),
    fc.constantFrom(
      '',
      'text/plain',
      'application/xml',
      'multipart/form-data; boundary=x',
      'application/x-www-form-urlencoded',
      'application/vnd.api+json',
      'APPLICATION/JSON',
      'application/json;;;',
    ),
  )
  .map(([seed, type]) => ({
    body: Buffer.from(JSON.stringify(seed)),
    type,
  }));
// many keys (over and under the 1,000-variable cap, flat and under `vars`), long digit runs, reserved names
const manyKeys = fc.tuple(fc.integer({ min: 500, max: 70_000 }), fc.boolean()).map(([n, normalized]) => {
  const vars = { PackageId: 'p', PackageVersion: '1', FeedName: 'f' };
  for (let i = 0; i < n; i++) vars['K' + i] = String(i);
  const body = normalized ? { type: 'package.promoted', vars } : { event: 'Promoted', ...vars };
  return { body: Buffer.from(JSON.stringify(body)), type: 'application/json' };
});
const longDigits = fc.integer({ min: 1000, max: 70_000 }).map((n) => ({
  body: Buffer.from(JSON.stringify({ ...SEED_BODIES[0], version: '1'.repeat(n) + '.' + '2'.repeat(n % 1000) })),
  type: 'application/json',
}));
const manyItems = fc.integer({ min: 1000, max: 30_000 }).map((n) => ({
  body: Buffer.from(JSON.stringify({ ...SEED_BODIES[2], packages: Array.from({ length: n }, (_, i) => ({ Name: 'p' + i })) })),
  type: 'application/json',
}));
const reserved = fc.constantFrom('__proto__', 'constructor', 'prototype').map((k) => ({
  body: Buffer.from(`{"event":"Promoted","PackageId":"a","PackageVersion":"1","FeedName":"f","${k}":{"polluted":"yes"}}`),
  type: 'application/json',
}));
const request = fc.oneof(
  { weight: 1, arbitrary: manyKeys },
  { weight: 1, arbitrary: longDigits },
  { weight: 1, arbitrary: manyItems },
  { weight: 1, arbitrary: reserved },
  { weight: 4, arbitrary: mutatedSeed },
  { weight: 2, arbitrary: randomJson },
  { weight: 1, arbitrary: hugeString },
  { weight: 1, arbitrary: overLimit },
  { weight: 1, arbitrary: deep },
  { weight: 1, arbitrary: deepInVars },
  { weight: 1, arbitrary: randomBytes },
  { weight: 2, arbitrary: truncated },
  { weight: 1, arbitrary: oddEncoding },
  { weight: 1, arbitrary: oddType },
);

function send(port, path, { body, type }, agent) {
  return new Promise((resolve) => {
    const headers = { 'content-length': body.length };
    if (type) headers['content-type'] = type;
    const req = http.request({ host: '127.0.0.1', port, path, method: 'POST', headers, agent }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, type: res.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (err) => resolve({ status: 0, error: err.code || err.message }));
    req.end(body);
  });
}

test(`${COUNT} generated bodies get only 2xx/4xx JSON answers and the runtime keeps serving`, async () => {
  const rt = await startRuntime();
  const unhandled = [];
  const onUnhandled = (r) => unhandled.push(String(r));
  process.on('unhandledRejection', onUnhandled);
  try {
    await rt.deploy([
      { id: 't1', type: 'tab' },
      { id: 'ev', z: 't1', type: 'notifier-event', path: '/proget/events', events: [], auth: 'none', wires: [['sink']] },
      { id: 'sink', z: 't1', type: 'debug', active: false, tosidebar: false, console: false },
    ]);
    const port = rt.server.address().port;
    const samples = fc.sample(request, { numRuns: COUNT, seed: 20261127 });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const counts = {};
    const bad = [];
    let i = 0;
    async function worker() {
      while (i < samples.length) {
        const r = await send(port, '/proget/events', samples[i++], agent);
        counts[r.status] = (counts[r.status] || 0) + 1;
        const ok = (r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500);
        if (!ok || !/json/.test(r.type || '')) bad.push({ status: r.status, type: r.type, error: r.error, body: (r.body || '').slice(0, 200) });
      }
    }
    await Promise.all(Array.from({ length: 16 }, worker));
    agent.destroy();
    console.log(`# fuzz answers by status: ${JSON.stringify(counts)}`);
    assert.deepEqual(bad.slice(0, 5), [], `${bad.length} answers were not 2xx/4xx JSON`);
    const alive = await send(port, '/proget/events', { body: Buffer.from(JSON.stringify(SEED_BODIES[0])), type: 'application/json' });
    assert.equal(alive.status, 202, 'the endpoint still accepts a valid event');
    const admin = await fetch(`${rt.adminUrl}/flows`);
    assert.equal(admin.status, 200, 'the admin API still answers');
    assert.deepEqual(unhandled, []);
    assert.equal({}.polluted, undefined, 'no prototype was polluted');
  } finally {
    process.off('unhandledRejection', onUnhandled);
    await rt.stop();
  }
});

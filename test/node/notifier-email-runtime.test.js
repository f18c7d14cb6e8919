'use strict';
// notifier-email + notifier-smtp in a full Node-RED runtime (RED.init, package loaded from the
// working tree, flows and credentials deployed through the admin API) against a real smtp-server:
// registration, credentials from the credential store, partial redeploys and shutdown closing the
// SMTP pool, no sockets left behind.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { startSmtpServer, waitFor } = require('../helpers/smtp');
const { sampleEvent } = require('../../dist/core/events');

function tcpSockets() {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap' || r === 'TLSSocketWrap' || r === 'TLSWrap').length;
}

function flows(port, subject = '') {
  return [
    { id: 't1', type: 'tab', label: 'mail' },
    {
      id: 's1',
      type: 'notifier-smtp',
      host: '127.0.0.1',
      port,
      security: 'starttls',
      authType: 'login',
      from: 'ProGet <proget@example.com>',
      rejectUnauthorized: false,
      credentials: { user: 'runtime-user', password: 'runtime-pass-42' },
    },
    { id: 'e1', type: 'notifier-email', z: 't1', name: 'ops', smtp: 's1', to: 'ops@corp.local', subject, wires: [['d1']] },
    { id: 'd1', type: 'debug', z: 't1', active: false, wires: [] },
  ];
}

test('in a full runtime: both types register, credentials come from the store, redeploys and stop close the pool', async (t) => {
  const srv = await startSmtpServer({ auth: { user: 'runtime-user', pass: 'runtime-pass-42' } });
  t.after(() => srv.close());
  const baseline = tcpSockets();
  const rt = await startRuntime({ settings: { notifierDelivery: { baseDelayMs: 5, maxDelayMs: 20 } } });
  let stopped = false;
  t.after(async () => {
    if (!stopped) await rt.stop();
  });

  // registration: the set loads with both types and the editor html
  const list = await (await fetch(`${rt.adminUrl}/nodes`, { headers: { accept: 'application/json' } })).json();
  const byType = {};
  for (const set of list) for (const type of set.types || []) byType[type] = set;
  for (const type of ['notifier-email', 'notifier-smtp']) {
    assert.ok(byType[type], `${type} is registered`);
    assert.equal(byType[type].enabled, true);
    assert.equal(byType[type].err, undefined, `${type} loaded without error`);
  }
  const html = await (await fetch(`${rt.adminUrl}/nodes`, { headers: { accept: 'text/html' } })).text();
  assert.match(html, /RED\.nodes\.registerType\('notifier-email'/);
  assert.match(html, /RED\.nodes\.registerType\('notifier-smtp'/);
  assert.match(html, /data-help-name="notifier-email"/);
  assert.match(html, /data-help-name="notifier-smtp"/);

  // deploy with credentials: nothing connects until a message arrives
  await rt.deploy(flows(srv.port));
  assert.equal(srv.connects, 0);
  const debug = rt.inbox('d1');
  rt.RED.nodes.getNode('e1').receive({ event: sampleEvent('package.promoted') });
  const first = await debug.until((m) => m.dispatch);
  assert.equal(first.dispatch.outcome, 'delivered', JSON.stringify(first.dispatch.error));
  assert.deepEqual(
    srv.auths.map((a) => [a.username, a.password]),
    [['runtime-user', 'runtime-pass-42']],
  );
  assert.doesNotMatch(JSON.stringify(first.dispatch), /runtime-user|runtime-pass-42/);
  const creds = await (await fetch(`${rt.adminUrl}/credentials/notifier-smtp/s1`)).json();
  assert.equal(creds.user, 'runtime-user');
  assert.equal(creds.has_password, true, 'the editor sees that a password is set...');
  assert.equal(creds.password, undefined, '...but never the password');
  assert.equal(srv.openConnections, 1, 'the pooled connection stays open');

  // a partial deploy that changes only the email node releases the pool (its only user)...
  const client1 = rt.RED.nodes.getNode('s1').client;
  const f2 = flows(srv.port, 'changed: $PackageId');
  delete f2[1].credentials; // unchanged credentials are not sent again
  await rt.deploy(f2, { 'Node-RED-Deployment-Type': 'nodes' });
  assert.equal(rt.RED.nodes.getNode('s1').client, client1, 'the config node was not restarted');
  await waitFor(() => srv.openConnections === 0, 3000, 'the pool to close with its last email node');
  // ...and the next message opens a new one
  rt.RED.nodes.getNode('e1').receive({ event: sampleEvent('package.added') });
  const second = await debug.until((m) => m.dispatch && m.dispatch.request.subject.startsWith('changed:'));
  assert.equal(second.dispatch.outcome, 'delivered');
  assert.equal(client1.poolsCreated, 2);
  assert.equal((await srv.message(2)).mail.subject, 'changed: MyCorp.CoolUtils');

  // stopping the runtime closes every connection; no socket is left in this process
  await rt.stop();
  stopped = true;
  assert.equal(client1.isClosed, true);
  await waitFor(() => srv.openConnections === 0, 3000, 'every SMTP connection to close');
  await srv.close();
  await waitFor(() => tcpSockets() <= baseline, 3000, `TCP sockets back to ${baseline} (now ${tcpSockets()})`);
});

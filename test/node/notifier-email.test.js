'use strict';
// notifier-email + notifier-smtp in Node-RED (4.1, or 5 with NR_RUNTIME=5) against a real
// smtp-server on 127.0.0.1; every message received is parsed with mailparser.
const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { testHelper, nodeModule, ownUserDirPerTest } = require('../helpers/nr');
const { startSmtpServer, startSilentServer, closedPort, waitFor } = require('../helpers/smtp');
const { sampleEvent } = require('../../dist/core/events');

const helper = testHelper();
const emailNode = nodeModule('notifier-email');
const smtpNode = nodeModule('notifier-smtp');
const nodes = [smtpNode, emailNode];

// short retry delays and SMTP timeouts, so that failing paths finish in milliseconds
ownUserDirPerTest(test, {
  notifierDelivery: { baseDelayMs: 5, maxDelayMs: 20, closeGraceMs: 1000 },
  notifierSmtp: { connectionTimeout: 1000, greetingTimeout: 300, socketTimeout: 2000, closeGraceMs: 1000 },
});

/** A tab with an SMTP config node s1, an email node e1 → out, and a Catch node → caught. */
function flow(smtp = {}, email = {}) {
  return [
    { id: 'f1', type: 'tab', label: 'mail' },
    {
      id: 's1',
      type: 'notifier-smtp',
      host: '127.0.0.1',
      port: 25,
      security: 'none',
      authType: 'none',
      from: 'ProGet <proget@example.com>',
      rejectUnauthorized: true,
      ...smtp,
    },
    {
      id: 'e1',
      type: 'notifier-email',
      z: 'f1',
      name: 'ops mail',
      smtp: 's1',
      to: 'dev@corp.local',
      cc: '',
      bcc: '',
      subject: '',
      body: '',
      html: false,
      wires: [['out']],
      ...email,
    },
    { id: 'out', type: 'helper', z: 'f1' },
    { id: 'c1', type: 'catch', z: 'f1', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'f1' },
  ];
}

/** Collects the messages reaching a helper node. */
function collector(id) {
  const node = helper.getNode(id);
  const all = [];
  node.on('input', (msg) => all.push(msg));
  return {
    all,
    next(n = 1, timeoutMs = 8000) {
      return waitFor(() => all.length >= n && all[n - 1], timeoutMs, `message ${n} at ${id}`);
    },
  };
}

/** The statuses node `id` showed (the helper spies on Node.prototype, shared by all nodes). */
function statusesOf(id) {
  const n = helper.getNode(id);
  return n.status
    .getCalls()
    .filter((c) => c.thisValue && c.thisValue.id === id)
    .map((c) => c.args[0]);
}

function send(event, id = 'e1') {
  helper.getNode(id).receive({ event, payload: event.vars, topic: event.type });
}

test.before(() => helper.startServer());
test.after(() => helper.stopServer());
test.afterEach(() => helper.unload());

test("ProGet's default subject and body reach the server with To and Cc in the headers and Bcc only in the envelope", async (t) => {
  const srv = await startSmtpServer();
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port }, { to: 'dev@corp.local; Lead <lead@corp.local>', cc: 'qa@corp.local', bcc: 'audit@corp.local' }));
  const out = collector('out');
  const event = sampleEvent('package.promoted');
  send(event);
  const { dispatch } = await out.next();
  const m = await srv.message(1);
  assert.equal(m.mail.subject, 'MyCorp.CoolUtils 3.2.0-pre.1 promoted to internal-utils by API');
  assert.equal(
    m.mail.text.trim(),
    'MyCorp.CoolUtils 3.2.0-pre.1 promoted to internal-utils by API\n\nPackage: https://proget.example.com/feeds/internal-utils/MyCorp.CoolUtils/3.2.0-pre.1',
  );
  assert.equal(m.mail.html, false);
  assert.deepEqual(m.mail.from.value, [{ address: 'proget@example.com', name: 'ProGet' }]);
  assert.deepEqual(m.mail.to.value, [
    { address: 'dev@corp.local', name: '' },
    { address: 'lead@corp.local', name: 'Lead' },
  ]);
  assert.deepEqual(m.mail.cc.value, [{ address: 'qa@corp.local', name: '' }]);
  assert.equal(m.mail.bcc, undefined);
  assert.doesNotMatch(m.raw, /audit@corp\.local/);
  assert.deepEqual(m.envelope.to.sort(), ['audit@corp.local', 'dev@corp.local', 'lead@corp.local', 'qa@corp.local']);
  assert.equal(m.envelope.from, 'proget@example.com');

  assert.equal(dispatch.outcome, 'delivered');
  assert.equal(dispatch.channel, 'email');
  assert.equal(dispatch.notifier, 'ops mail');
  assert.equal(dispatch.eventId, event.id);
  assert.equal(dispatch.attempts, 1);
  assert.equal(dispatch.response.status, 250);
  assert.match(dispatch.response.body, /^250 OK: queued as TEST1/);
  assert.deepEqual(dispatch.response.rejected, []);
  assert.deepEqual(dispatch.request, {
    method: 'SMTP',
    url: `smtp://127.0.0.1:${srv.port}`,
    from: 'ProGet <proget@example.com>',
    to: ['dev@corp.local', 'Lead <lead@corp.local>'],
    cc: ['qa@corp.local'],
    bcc: ['audit@corp.local'],
    subject: 'MyCorp.CoolUtils 3.2.0-pre.1 promoted to internal-utils by API',
    contentType: 'text/plain',
    body: 'MyCorp.CoolUtils 3.2.0-pre.1 promoted to internal-utils by API\n\nPackage: https://proget.example.com/feeds/internal-utils/MyCorp.CoolUtils/3.2.0-pre.1',
  });
});

test("ProGet's default vulnerability and build-issue emails render their lists", async (t) => {
  const srv = await startSmtpServer();
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port }));
  const out = collector('out');
  send(sampleEvent('sca.new-vulnerability'));
  await out.next(1);
  send(sampleEvent('sca.build-issues-opened'));
  await out.next(2);
  const vuln = (await srv.message(1)).mail;
  assert.equal(vuln.subject, 'Vulnerability PGV-2245804 in Newtonsoft.Json');
  assert.match(vuln.text, /A new vulnerability has been published: PGV-2245804, Improper Handling of Exceptional Conditions in Newtonsoft\.Json/);
  assert.match(vuln.text, /Affected packages:\s+\* nuget:Newtonsoft\.Json < 13\.0\.1\./);
  const build = (await srv.message(2)).mail;
  assert.equal(build.subject, 'Issues detected in XAPUtil.Web 25.4.2');
  assert.match(build.text, / \* 1 Noncompliant package \(PGV-892418\)\n \* 4 Noncompliant package \(MIT License\)/);
  assert.match(build.text, /To view issues, see https:\/\/proget\.example\.com\/projects\/build\/issues\?projectBuildId=1042&resolved=Unresolved/);
});

test('custom subject, body and recipient templates are rendered from the event', async (t) => {
  const srv = await startSmtpServer();
  t.after(() => srv.close());
  await helper.load(
    nodes,
    flow(
      { port: srv.port },
      {
        to: '$(FeedName)-owners@corp.local',
        subject: '[$FeedName] $PackageId $PackageVersion ($PackageEvent)',
        body: 'Hello,\n\n$UserName $ToLower($PackageEvent) $PackageId.\n<% if $FeedName == internal-utils { %>Internal feed.<% } %>',
      },
    ),
  );
  const out = collector('out');
  send(sampleEvent('package.deployed'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'delivered');
  const m = (await srv.message(1)).mail;
  assert.deepEqual(m.to.value, [{ address: 'internal-utils-owners@corp.local', name: '' }]);
  assert.equal(m.subject, '[internal-utils] MyCorp.CoolUtils 3.2.0-pre.1 (Deployed)');
  assert.equal(m.text.trim(), 'Hello,\n\nAPI deployed MyCorp.CoolUtils.\nInternal feed.');
});

test('HTML mode escapes values such as <script> in a variable and sends a text alternative', async (t) => {
  const srv = await startSmtpServer();
  t.after(() => srv.close());
  await helper.load(
    nodes,
    flow({ port: srv.port }, { html: true, subject: 'Added: $PackageId', body: '<h1>$PackageId</h1><p>by <i>$UserName</i></p>' }),
  );
  const out = collector('out');
  const event = sampleEvent('package.added');
  event.vars.PackageId = '<script>alert("pwned")</script>';
  event.vars.UserName = 'Tom & Jerry';
  send(event);
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'delivered');
  const m = (await srv.message(1)).mail;
  assert.equal(m.html, '<h1>&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;</h1><p>by <i>Tom &amp; Jerry</i></p>');
  assert.doesNotMatch(m.html, /<script>/);
  assert.equal(m.text.trim(), '<script>alert("pwned")</script>\n\nby Tom & Jerry');
  assert.equal(m.subject, 'Added: <script>alert("pwned")</script>');
  assert.equal(dispatch.request.contentType, 'text/html');
  assert.equal(dispatch.request.body, m.html);
});

test('a 451 reply is retried and the message delivered on the second attempt', async (t) => {
  const srv = await startSmtpServer({ dataReplies: [451] });
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port }));
  const out = collector('out');
  const caught = collector('caught');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'delivered');
  assert.equal(dispatch.attempts, 2);
  assert.equal(dispatch.attemptLog[0].status, 451);
  assert.match(dispatch.attemptLog[0].error, /^smtp_451: the server deferred the message \(DATA\): 451 4\.3\.0 Temporary failure/);
  assert.equal(dispatch.attemptLog[1].status, 250);
  assert.equal(srv.dataCommands, 2);
  assert.equal(srv.messages.length, 1);
  assert.equal(caught.all.length, 0);
});

test('a 550 reply fails at once as permanent, with the SMTP reply recorded, and done(err) reaches a Catch node', async (t) => {
  const srv = await startSmtpServer({ dataReplies: [550] });
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port }));
  const out = collector('out');
  const caught = collector('caught');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'failed');
  assert.equal(dispatch.attempts, 1);
  assert.deepEqual(dispatch.error, {
    code: 'smtp_550',
    message: 'the server rejected the message (DATA): 550 5.7.1 Message rejected as spam',
    permanent: true,
  });
  assert.equal(dispatch.response.status, 550);
  assert.equal(dispatch.response.body, '550 5.7.1 Message rejected as spam');
  const c = await caught.next();
  assert.match(c.error.message, /550 5\.7\.1 Message rejected as spam \[smtp_550\]/);
  assert.equal(c.error.source.id, 'e1');
  assert.equal(c.dispatch.error.code, 'smtp_550');
  assert.equal(srv.dataCommands, 1);
  assert.equal(srv.messages.length, 0);
});

test('a rejected recipient (550 on RCPT TO) is a permanent failure naming the address', async (t) => {
  const srv = await startSmtpServer({ rcptReply: (a) => (a === 'ghost@corp.local' ? 550 : undefined) });
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port }, { to: 'ghost@corp.local' }));
  const out = collector('out');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'failed');
  assert.equal(dispatch.attempts, 1);
  assert.equal(dispatch.error.code, 'smtp_550');
  assert.equal(dispatch.error.permanent, true);
  assert.match(dispatch.error.message, /5\.1\.1 No such user here/);
});

test('a server that is down is retried, then the dispatch fails (retryable error, all attempts used)', async () => {
  const port = await closedPort();
  await helper.load(nodes, flow({ port }));
  const out = collector('out');
  const caught = collector('caught');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'failed');
  assert.equal(dispatch.attempts, 5);
  assert.equal(dispatch.error.code, 'ECONNREFUSED');
  assert.equal(dispatch.error.permanent, false);
  assert.equal(dispatch.attemptLog.length, 5);
  const c = await caught.next();
  assert.match(c.error.message, /connection refused/);
  const status = statusesOf('e1').at(-1);
  assert.deepEqual(status, { fill: 'red', shape: 'ring', text: 'failed: refused' });
});

test('a server that accepts and never greets cannot hang a dispatch: greeting timeouts, retried, then failed', async (t) => {
  const silent = await startSilentServer();
  t.after(() => silent.close());
  await helper.load(nodes, flow({ port: silent.port }));
  const out = collector('out');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next(1, 15000);
  assert.equal(dispatch.outcome, 'failed');
  assert.equal(dispatch.attempts, 5);
  assert.equal(dispatch.error.code, 'ETIMEDOUT');
  assert.match(dispatch.error.message, /no SMTP greeting/);
  assert.equal(silent.connects, 5);
});

test('STARTTLS with a self-signed certificate works with rejectUnauthorized false', async (t) => {
  const srv = await startSmtpServer();
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port, security: 'starttls', rejectUnauthorized: false }));
  const out = collector('out');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'delivered');
  const m = await srv.message(1);
  assert.equal(m.secure, true, 'the session was upgraded with STARTTLS');
});

test('STARTTLS with a self-signed certificate and rejectUnauthorized true fails at once, naming the certificate', async (t) => {
  const srv = await startSmtpServer();
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port, security: 'starttls', rejectUnauthorized: true }));
  const out = collector('out');
  const caught = collector('caught');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'failed');
  assert.equal(dispatch.attempts, 1);
  assert.equal(dispatch.error.code, 'tls_certificate');
  assert.equal(dispatch.error.permanent, true);
  assert.match(dispatch.error.message, /TLS certificate was rejected \(a self-signed certificate/);
  assert.match((await caught.next()).error.message, /certificate/);
  assert.equal(srv.messages.length, 0);
});

test('security "starttls" against a server without STARTTLS fails permanently instead of sending in clear text', async (t) => {
  const srv = await startSmtpServer({ starttls: false });
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port, security: 'starttls', rejectUnauthorized: false }));
  const out = collector('out');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'failed');
  assert.equal(dispatch.attempts, 1);
  assert.equal(dispatch.error.permanent, true);
  assert.match(dispatch.error.message, /STARTTLS/);
  assert.equal(srv.messages.length, 0);
});

test('implicit TLS (security tls) works against a server with secure: true', async (t) => {
  const srv = await startSmtpServer({ secure: true });
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port, security: 'tls', rejectUnauthorized: false }));
  const out = collector('out');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'delivered');
  assert.equal(dispatch.request.url, `smtps://127.0.0.1:${srv.port}`);
  assert.equal((await srv.message(1)).secure, true);
});

test('security tls against a plain-text port fails permanently with a hint about 465 vs 587', async (t) => {
  const srv = await startSmtpServer({ starttls: false });
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port, security: 'tls', rejectUnauthorized: false }));
  const out = collector('out');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'failed');
  assert.equal(dispatch.attempts, 1);
  assert.equal(dispatch.error.code, 'tls_mismatch');
  assert.match(dispatch.error.message, /use "starttls" for ports 587 and 25/);
});

/** Every argument of every log/status/warn/error call of the two nodes, as text. */
function everythingLogged(ids) {
  const parts = [];
  for (const id of ids) {
    const n = helper.getNode(id);
    for (const m of ['log', 'warn', 'error', 'debug', 'trace', 'status']) {
      for (const call of n[m].getCalls())
        parts.push(JSON.stringify(call.args, (k, v) => (v instanceof Error ? { message: v.message, stack: v.stack } : v)));
    }
  }
  for (const call of helper.log().getCalls()) parts.push(JSON.stringify(call.args));
  return parts.join('\n');
}

test('auth login sends the user and password, which appear nowhere in msg.dispatch, the status or the log', async (t) => {
  const user = 'relay-account-7';
  const pass = 'S3cret-Pa55word!';
  const srv = await startSmtpServer({ auth: { user, pass } });
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port, security: 'starttls', rejectUnauthorized: false, authType: 'login' }), {
    s1: { user, password: pass },
  });
  const out = collector('out');
  send(sampleEvent('package.added'));
  const msg = await out.next();
  assert.equal(msg.dispatch.outcome, 'delivered');
  assert.equal(srv.auths.length, 1);
  assert.equal(srv.auths[0].username, user);
  assert.equal(srv.auths[0].password, pass);
  assert.equal((await srv.message(1)).user, user);
  const seen = JSON.stringify(msg.dispatch) + everythingLogged(['e1', 's1']);
  assert.doesNotMatch(seen, new RegExp(user));
  assert.doesNotMatch(seen, /S3cret-Pa55word/);
});

test('a wrong password is a permanent 535 with a hint, and the password stays out of the record and the log', async (t) => {
  const srv = await startSmtpServer({ auth: { user: 'relay-user', pass: 'right-password' } });
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port, security: 'starttls', rejectUnauthorized: false, authType: 'login' }), {
    s1: { user: 'relay-user', password: 'wrong-password-123' },
  });
  const out = collector('out');
  const caught = collector('caught');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'failed');
  assert.equal(dispatch.attempts, 1);
  assert.equal(dispatch.error.code, 'smtp_535');
  assert.match(dispatch.error.message, /authentication failed .*535 5\.7\.8 Username and Password not accepted.*app password/);
  const c = await caught.next();
  const seen = JSON.stringify(dispatch) + JSON.stringify(c.error) + everythingLogged(['e1', 's1']);
  assert.doesNotMatch(seen, /wrong-password-123/);
  assert.doesNotMatch(seen, /relay-user/);
});

test('OAuth2: the access token is fetched from the token URL with the refresh token and used for XOAUTH2', async (t) => {
  const tokenRequests = [];
  const tokenServer = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      tokenRequests.push(Object.fromEntries(new URLSearchParams(body)));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ access_token: 'fresh-access-token-1', expires_in: 3600, token_type: 'Bearer' }));
    });
  });
  await new Promise((r) => tokenServer.listen(0, '127.0.0.1', r));
  t.after(() => new Promise((r) => tokenServer.close(r)));
  const srv = await startSmtpServer({ auth: { user: 'notify@corp.example', accessToken: 'fresh-access-token-1' } });
  t.after(() => srv.close());
  const creds = {
    user: 'notify@corp.example',
    clientId: 'client-id-1',
    clientSecret: 'client-secret-xyz',
    refreshToken: 'refresh-token-abc',
    tokenUrl: `http://127.0.0.1:${tokenServer.address().port}/tenant/oauth2/v2.0/token`,
  };
  await helper.load(nodes, flow({ port: srv.port, security: 'starttls', rejectUnauthorized: false, authType: 'oauth2', from: '' }), { s1: creds });
  const out = collector('out');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'delivered', JSON.stringify(dispatch.error));
  assert.deepEqual(tokenRequests, [
    { client_id: 'client-id-1', client_secret: 'client-secret-xyz', refresh_token: 'refresh-token-abc', grant_type: 'refresh_token' },
  ]);
  assert.deepEqual(
    srv.auths.map((a) => [a.method, a.username, a.accessToken]),
    [['XOAUTH2', 'notify@corp.example', 'fresh-access-token-1']],
  );
  assert.equal(dispatch.request.from, 'notify@corp.example', 'from defaults to the OAuth2 user');
  const seen = JSON.stringify(dispatch) + everythingLogged(['e1', 's1']);
  assert.doesNotMatch(seen, /client-secret-xyz|refresh-token-abc|fresh-access-token-1/);
});

test('no network at deploy: an email node with an SMTP server that is not there deploys quietly, and connects only for a message', async (t) => {
  const silent = await startSilentServer();
  t.after(() => silent.close());
  await helper.load(nodes, flow({ port: silent.port }));
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(silent.connects, 0);
  const e1 = helper.getNode('e1');
  const s1 = helper.getNode('s1');
  assert.equal(e1.error.getCalls().filter((c) => c.thisValue === e1 || c.thisValue === s1).length, 0);
  assert.equal(s1.client.open, false);
  assert.equal(s1.client.poolsCreated, 0);
  send(sampleEvent('package.added'));
  await waitFor(() => silent.connects > 0, 3000, 'a connection after the first message');
});

test('one pool per SMTP config node, shared by its email nodes; closing the nodes closes every connection', async (t) => {
  const srv = await startSmtpServer();
  t.after(() => srv.close());
  const f = flow({ port: srv.port });
  f.push({ id: 'e2', type: 'notifier-email', z: 'f1', smtp: 's1', to: 'second@corp.local', wires: [['out']] });
  await helper.load(nodes, f);
  const out = collector('out');
  send(sampleEvent('package.added'), 'e1');
  await out.next(1);
  send(sampleEvent('package.deleted'), 'e2');
  await out.next(2);
  assert.deepEqual(
    out.all.map((m) => m.dispatch.outcome),
    ['delivered', 'delivered'],
  );
  const s1 = helper.getNode('s1');
  assert.equal(s1.client.poolsCreated, 1);
  assert.equal(s1.client.users, 2);
  assert.equal(srv.openConnections, 1, 'the pooled connection stays open between messages');
  await helper.unload();
  await waitFor(() => srv.openConnections === 0, 3000, 'the server to see every connection closed');
  assert.equal(s1.client.isClosed, true);
});

test('status shows sending, then the last result', async (t) => {
  const srv = await startSmtpServer();
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port }));
  const out = collector('out');
  send(sampleEvent('package.added'));
  await out.next();
  const statuses = statusesOf('e1');
  assert.ok(
    statuses.some((s) => s.text === 'sending'),
    JSON.stringify(statuses),
  );
  assert.deepEqual(statuses.at(-1), { fill: 'green', shape: 'dot', text: 'delivered 250' });
});

test('config errors: a missing SMTP node, a misconfigured one, or no To fail every message with code config', async () => {
  const f = flow({ host: '' }, {});
  f.push({ id: 'e2', type: 'notifier-email', z: 'f1', smtp: '', to: 'a@corp.local', wires: [['out']] });
  f.push({ id: 'e3', type: 'notifier-email', z: 'f1', smtp: 's2', to: '', wires: [['out']] });
  f.push({ id: 's2', type: 'notifier-smtp', host: '127.0.0.1', port: 25, from: 'p@x.io' });
  f.push({ id: 'e4', type: 'notifier-email', z: 'f1', smtp: 's2', to: 'a@corp.local; nobody', wires: [['out']] });
  await helper.load(nodes, f);
  const out = collector('out');
  for (const id of ['e1', 'e2', 'e3', 'e4']) send(sampleEvent('package.added'), id);
  await out.next(4);
  const byNode = Object.fromEntries(out.all.map((m) => [m.dispatch.notifierId, m.dispatch]));
  for (const id of ['e1', 'e2', 'e3', 'e4']) {
    assert.equal(byNode[id].outcome, 'failed', id);
    assert.equal(byNode[id].error.code, 'config', id);
    assert.equal(byNode[id].attempts, 0, id);
  }
  assert.match(byNode.e1.error.message, /the SMTP server "notifier-smtp s1" is misconfigured: host is required/);
  assert.match(byNode.e2.error.message, /no SMTP server selected/);
  assert.match(byNode.e3.error.message, /to is required/);
  assert.match(byNode.e4.error.message, /"nobody" is not an email address/);
  assert.deepEqual(statusesOf('e1')[0], { fill: 'red', shape: 'ring', text: 'config error' });
});

test('a To template that renders empty fails the dispatch clearly, without contacting the server', async (t) => {
  const srv = await startSmtpServer();
  t.after(() => srv.close());
  await helper.load(nodes, flow({ port: srv.port }, { to: '<% if $FeedName == other { %>x@corp.local<% } %>' }));
  const out = collector('out');
  const caught = collector('caught');
  send(sampleEvent('package.added'));
  const { dispatch } = await out.next();
  assert.equal(dispatch.outcome, 'failed');
  assert.equal(dispatch.attempts, 0);
  assert.equal(dispatch.error.code, 'recipients');
  assert.match(dispatch.error.message, /To is empty after rendering/);
  await caught.next();
  assert.equal(srv.connects, 0);
});

test('a message without msg.event fails with a clear error', async () => {
  await helper.load(nodes, flow({ port: 2525 }));
  const caught = collector('caught');
  helper.getNode('e1').receive({ payload: 'hello' });
  const c = await caught.next();
  assert.match(c.error.message, /msg\.event is missing/);
});

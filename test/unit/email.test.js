'use strict';
// The email channel's core: address lists, SMTP settings, transport options, SMTP error
// classification, HTML escaping and the text alternative, the channel's prepare/attempt, and the
// pooled client's lifecycle (lazy transport, leases, close), with fake transports where no server
// is needed and a real smtp-server where the wire matters.
const test = require('node:test');
const assert = require('node:assert/strict');
const { parseAddressList, parseMailbox, checkAddress, formatMailbox, AddressError } = require('../../dist/core/channels/smtp-address');
const {
  smtpSettings,
  smtpTransportOptions,
  smtpSecrets,
  smtpLabel,
  classifySmtpError,
  SmtpClient,
  SmtpClosedError,
  DEFAULT_PORTS,
} = require('../../dist/core/channels/smtp');
const { createEmailChannel, escapeHtml, htmlToText, subjectLine, attemptTimeoutMs } = require('../../dist/core/channels/email');
const { compileTemplate, defaultTemplates } = require('../../dist/core/otterscript');
const { sampleEvent } = require('../../dist/core/events');
const { DeliveryEngine, Dispatcher } = require('../../dist/core/delivery');
const { startSmtpServer, startSilentServer, closedPort, TLS } = require('../helpers/smtp');

const kit = { compile: compileTemplate, defaults: defaultTemplates };
const base = { host: 'smtp.example.com', from: 'ProGet <proget@example.com>' };

// ---------------------------------------------------------------------------------------------
// addresses

test('address lists split on commas and semicolons, keep display names and quoted commas', () => {
  const list = parseAddressList('dev@corp.local; "Doe, John" <john@corp.local>, Ops Team <ops@corp.local>;');
  assert.deepEqual(list, [
    { address: 'dev@corp.local' },
    { name: 'Doe, John', address: 'john@corp.local' },
    { name: 'Ops Team', address: 'ops@corp.local' },
  ]);
});

test('address lists drop empty items and duplicate addresses (any case)', () => {
  assert.deepEqual(parseAddressList(' a@x.io ,, A@X.io ;\n b@y.io '), [{ address: 'a@x.io' }, { address: 'b@y.io' }]);
  assert.deepEqual(parseAddressList('  ;, '), []);
});

test('an invalid address in a list is an error naming it', () => {
  assert.throws(
    () => parseAddressList('a@x.io, not-an-address'),
    (e) => e instanceof AddressError && /"not-an-address" is not an email address/.test(e.message),
  );
  assert.throws(() => parseAddressList('a@x.io b@y.io'), /is not one address/);
  assert.throws(() => parseAddressList('x@bad_domain.com'), /invalid domain/);
  assert.throws(() => parseAddressList('"unclosed <a@x.io>'), /unclosed quote/);
  assert.throws(() => parseMailbox('a@x.io\r\nBcc: evil@x.io'), /line break/);
});

test('checkAddress accepts common forms and address literals', () => {
  for (const ok of ['a@b.co', 'first.last+tag@sub.example.org', 'root@localhost', 'ops@[127.0.0.1]', 'jürgen@müller.de']) {
    assert.equal(checkAddress(ok), undefined, ok);
  }
  for (const bad of ['@x.io', 'a@', 'a..b@x.io', '.a@x.io', 'a@-x.io', 'a b@x.io']) assert.notEqual(checkAddress(bad), undefined, bad);
});

test('formatMailbox quotes display names that need it', () => {
  assert.equal(formatMailbox({ address: 'a@x.io' }), 'a@x.io');
  assert.equal(formatMailbox({ name: 'Ops Team', address: 'a@x.io' }), 'Ops Team <a@x.io>');
  assert.equal(formatMailbox({ name: 'Doe, John', address: 'a@x.io' }), '"Doe, John" <a@x.io>');
});

// ---------------------------------------------------------------------------------------------
// settings

test('smtpSettings: the port defaults by security mode (465 tls, 587 starttls, 25 none)', () => {
  assert.deepEqual(DEFAULT_PORTS, { tls: 465, starttls: 587, none: 25 });
  assert.equal(smtpSettings({ ...base, security: 'tls' }).port, 465);
  assert.equal(smtpSettings({ ...base, security: 'starttls', port: '' }).port, 587);
  assert.equal(smtpSettings({ ...base, security: 'none' }).port, 25);
  assert.equal(smtpSettings({ ...base, security: 'starttls', port: '2525' }).port, 2525);
  assert.equal(smtpSettings(base).security, 'starttls');
  assert.equal(smtpSettings(base).rejectUnauthorized, true);
  assert.equal(smtpSettings({ ...base, rejectUnauthorized: 'false' }).rejectUnauthorized, false);
});

test('smtpSettings: bad values are ConfigErrors naming the property', () => {
  const cases = [
    [{ ...base, host: '' }, 'host', /host is required/],
    [{ ...base, host: 'smtp://mail.example.com' }, 'host', /without a scheme/],
    [{ ...base, host: 'mail.example.com:587' }, 'host', /must not include the port/],
    [{ ...base, port: '70000' }, 'port', /port must be a whole number from 1 to 65535/],
    [{ ...base, security: 'ssl' }, 'security', /security must be one of tls, starttls, none/],
    [{ ...base, authType: 'basic' }, 'authType', /authType must be one of none, login, oauth2/],
    [{ ...base, from: 'not an address' }, 'from', /from: /],
    [{ host: 'smtp.example.com' }, 'from', /from is required/],
    [{ ...base, authType: 'login' }, 'user', /needs a user/],
  ];
  for (const [config, property, re] of cases) {
    assert.throws(
      () => smtpSettings(config, {}),
      (e) => e.name === 'ConfigError' && e.property === property && re.test(e.message),
      `${property}: ${JSON.stringify(config)}`,
    );
  }
  assert.throws(
    () => smtpSettings({ ...base, authType: 'login' }, { user: 'u' }),
    (e) => e.property === 'password' && /app password/.test(e.message),
  );
  assert.throws(
    () => smtpSettings({ ...base, authType: 'oauth2' }, { user: 'u@x.io', clientId: 'c' }),
    (e) => e.property === 'refreshToken',
  );
  assert.throws(
    () => smtpSettings({ ...base, authType: 'oauth2' }, { user: 'u@x.io', clientId: 'c', refreshToken: 'r', tokenUrl: 'ftp://x' }),
    (e) => e.property === 'tokenUrl',
  );
});

test('smtpSettings: from defaults to the user when it is an address; IPv6 hosts are labelled in brackets', () => {
  const s = smtpSettings({ host: 'smtp.gmail.com', security: 'tls', authType: 'login' }, { user: 'me@gmail.com', password: 'app-password' });
  assert.deepEqual(s.from, { address: 'me@gmail.com' });
  assert.equal(smtpLabel(smtpSettings({ ...base, host: '::1', port: 25 })), '[::1]:25');
  assert.equal(smtpLabel(s), 'smtp.gmail.com:465');
});

test('smtpTransportOptions: pooled, lazy, timeouts set, TLS mode mapped, no nodemailer requeue or logging', () => {
  const tls = smtpTransportOptions(smtpSettings({ ...base, security: 'tls' }));
  assert.equal(tls.pool, true);
  assert.equal(tls.secure, true);
  assert.equal(tls.requireTLS, false);
  const st = smtpTransportOptions(smtpSettings({ ...base, security: 'starttls', rejectUnauthorized: false }));
  assert.equal(st.secure, false);
  assert.equal(st.requireTLS, true);
  assert.deepEqual(st.tls, { rejectUnauthorized: false });
  const none = smtpTransportOptions(smtpSettings({ ...base, security: 'none' }));
  assert.equal(none.ignoreTLS, true);
  assert.equal(none.requireTLS, false);
  for (const o of [tls, st, none]) {
    assert.ok(o.connectionTimeout > 0 && o.greetingTimeout > 0 && o.socketTimeout > 0);
    assert.equal(o.maxRequeues, 0);
    assert.equal(o.logger, false);
    assert.equal(o.debug, false);
  }
});

test('smtpTransportOptions: login and OAuth2 (refresh token + token URL as accessUrl)', () => {
  const login = smtpTransportOptions(smtpSettings({ ...base, authType: 'login' }, { user: 'u', password: 'p' }));
  assert.deepEqual(login.auth, { user: 'u', pass: 'p' });
  const o = smtpTransportOptions(
    smtpSettings(
      { ...base, authType: 'oauth2' },
      {
        user: 'me@corp.com',
        clientId: 'cid',
        clientSecret: 'csecret',
        refreshToken: 'rtoken',
        tokenUrl: 'https://login.microsoftonline.com/t/oauth2/v2.0/token',
      },
    ),
  );
  assert.deepEqual(o.auth, {
    type: 'OAuth2',
    user: 'me@corp.com',
    clientId: 'cid',
    clientSecret: 'csecret',
    refreshToken: 'rtoken',
    accessUrl: 'https://login.microsoftonline.com/t/oauth2/v2.0/token',
  });
});

test('smtpSecrets: password, refresh token and client secret; the user unless it is the sender', () => {
  assert.deepEqual(smtpSecrets(smtpSettings({ ...base, authType: 'login' }, { user: 'relay-user', password: 'pw-123' })), ['relay-user', 'pw-123']);
  assert.deepEqual(smtpSecrets(smtpSettings({ ...base, authType: 'login' }, { user: 'proget@example.com', password: 'pw-123' })), ['pw-123']);
  assert.deepEqual(
    smtpSecrets(smtpSettings({ ...base, authType: 'oauth2' }, { user: 'x@example.com', clientId: 'c', clientSecret: 'cs-1', refreshToken: 'rt-1' })),
    ['x@example.com', 'rt-1', 'cs-1'],
  );
  assert.deepEqual(smtpSecrets(smtpSettings(base)), []);
});

// ---------------------------------------------------------------------------------------------
// classification

const smtpErr = (props) => Object.assign(new Error(props.message || 'failed'), props);

test('classifySmtpError: 4xx replies are retryable, 5xx permanent, with the reply recorded', () => {
  for (const rc of [421, 450, 451, 452]) {
    const r = classifySmtpError(smtpErr({ code: 'EMESSAGE', responseCode: rc, response: `${rc} 4.3.0 try later`, command: 'DATA' }));
    assert.equal(r.kind, 'retryable', String(rc));
    assert.equal(r.code, `smtp_${rc}`);
    assert.equal(r.status, rc);
    assert.deepEqual(r.response, { status: rc, body: `${rc} 4.3.0 try later`, command: 'DATA' });
  }
  for (const rc of [550, 553, 554]) {
    const r = classifySmtpError(smtpErr({ code: 'EENVELOPE', responseCode: rc, response: `${rc} 5.1.1 no such user`, command: 'RCPT TO' }));
    assert.equal(r.kind, 'permanent', String(rc));
    assert.equal(r.code, `smtp_${rc}`);
    assert.match(r.message, /rejected the message \(RCPT TO\): \d+ 5\.1\.1 no such user/);
  }
});

test('classifySmtpError: 535 is a permanent authentication failure with a hint', () => {
  const r = classifySmtpError(
    smtpErr({ code: 'EAUTH', responseCode: 535, response: '535 5.7.8 Username and Password not accepted', command: 'AUTH PLAIN' }),
  );
  assert.equal(r.kind, 'permanent');
  assert.equal(r.code, 'smtp_535');
  assert.match(r.message, /authentication failed/);
  assert.match(r.message, /app password/);
});

test('classifySmtpError: network errors and timeouts are retryable, under their system code', () => {
  const refused = classifySmtpError(smtpErr({ code: 'ESOCKET', originalCode: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:1' }));
  assert.equal(refused.kind, 'retryable');
  assert.equal(refused.code, 'ECONNREFUSED');
  const closed = classifySmtpError(smtpErr({ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }));
  assert.equal(closed.kind, 'retryable');
  const greeting = classifySmtpError(smtpErr({ code: 'ETIMEDOUT', timeoutType: 'GREETING_TIMEOUT', message: 'Greeting never received' }), {
    security: 'starttls',
    port: 465,
  });
  assert.equal(greeting.kind, 'retryable');
  assert.equal(greeting.code, 'ETIMEDOUT');
  assert.match(greeting.message, /no SMTP greeting/);
  assert.match(greeting.message, /port 465 expects security "tls"/);
  assert.equal(classifySmtpError(smtpErr({ code: 'EDNS', originalCode: 'ENOTFOUND' })).kind, 'retryable');
});

test('classifySmtpError: certificate problems and TLS mode mismatches are permanent and say what to change', () => {
  const cert = classifySmtpError(smtpErr({ code: 'ESOCKET', originalCode: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' }));
  assert.equal(cert.kind, 'permanent');
  assert.equal(cert.code, 'tls_certificate');
  assert.match(cert.message, /certificate/);
  assert.match(cert.message, /Reject unauthorized certificates/);
  const mismatch = classifySmtpError(smtpErr({ code: 'ESOCKET', message: 'ssl3_get_record:wrong version number' }), { security: 'tls', port: 587 });
  assert.equal(mismatch.kind, 'permanent');
  assert.equal(mismatch.code, 'tls_mismatch');
  assert.match(mismatch.message, /use "starttls" for ports 587 and 25/);
});

test('classifySmtpError: OAuth2 refresh failures are permanent, token endpoint outages retryable', () => {
  const bad = classifySmtpError(
    smtpErr({ code: 'EAUTH', originalCode: 'EOAUTH2', message: 'invalid_grant: Token has been expired or revoked.', command: 'AUTH XOAUTH2' }),
  );
  assert.equal(bad.kind, 'permanent');
  assert.equal(bad.code, 'oauth2');
  assert.match(bad.message, /OAuth2 token refresh failed: invalid_grant/);
  const down = classifySmtpError(smtpErr({ code: 'EAUTH', originalCode: 'ECONNREFUSED', message: 'connect ECONNREFUSED' }));
  assert.equal(down.kind, 'retryable');
});

test('classifySmtpError: a closed client or pool is a permanent shutdown', () => {
  assert.deepEqual([classifySmtpError(new SmtpClosedError()).code, classifySmtpError(new SmtpClosedError()).kind], ['shutdown', 'permanent']);
  assert.equal(classifySmtpError(new Error('Connection pool was closed')).code, 'shutdown');
});

// ---------------------------------------------------------------------------------------------
// HTML

test('escapeHtml escapes the five HTML characters', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
});

test('htmlToText: line breaks for blocks, bullets for list items, link URLs kept, scripts dropped, entities decoded', () => {
  const html =
    '<html><head><title>t</title><style>p{}</style></head><body><h1>New   vulnerability</h1>' +
    '<p>A &amp; B &lt;3</p><ul><li>one</li><li>two</li></ul><script>alert(1)</script>' +
    '<a href="https://proget.example.com/x?a=1&amp;b=2">view</a><br>end</body></html>';
  assert.equal(htmlToText(html), 'New vulnerability\n\nA & B <3\n\n* one\n* two\nview (https://proget.example.com/x?a=1&b=2)\nend');
});

test('subjectLine folds line breaks and strips control characters', () => {
  assert.equal(subjectLine('a\r\nBcc: x@y.z\n b\u0007'), 'a Bcc: x@y.z b');
  assert.equal(subjectLine('x'.repeat(2000)).length, 998);
});

// ---------------------------------------------------------------------------------------------
// the channel

function fakeSender(overrides = {}) {
  const settings = smtpSettings({ host: '127.0.0.1', port: 2525, security: 'none', from: 'ProGet <proget@example.com>' });
  const sent = [];
  return {
    sent,
    key: 'smtp://127.0.0.1:2525',
    label: '127.0.0.1:2525',
    settings,
    timeouts: { connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 },
    fromMailbox: settings.from,
    async send(mail) {
      sent.push(mail);
      return { response: '250 OK queued', status: 250, accepted: mail.to.concat(mail.cc, mail.bcc).map((m) => m.address), rejected: [] };
    },
    ...overrides,
  };
}

test("channel: default subject and body for each event type (ProGet's, reworded)", () => {
  const sender = fakeSender();
  const { driver } = createEmailChannel({ to: 'dev@corp.local' }, sender, kit);
  const promoted = driver.prepare(sampleEvent('package.promoted'), { dispatchId: 'd' });
  assert.equal(promoted.request.subject, 'MyCorp.CoolUtils 3.2.0-pre.1 promoted to internal-utils by API');
  assert.equal(
    promoted.request.body,
    'MyCorp.CoolUtils 3.2.0-pre.1 promoted to internal-utils by API\n\nPackage: https://proget.example.com/feeds/internal-utils/MyCorp.CoolUtils/3.2.0-pre.1',
  );
  assert.equal(promoted.request.contentType, 'text/plain');
  const vuln = driver.prepare(sampleEvent('sca.new-vulnerability'), { dispatchId: 'd' });
  assert.equal(vuln.request.subject, 'Vulnerability PGV-2245804 in Newtonsoft.Json');
  assert.match(vuln.request.body, /A new vulnerability has been published: PGV-2245804, Improper Handling/);
  assert.match(vuln.request.body, /\* nuget:Newtonsoft\.Json < 13\.0\.1\./);
  const build = driver.prepare(sampleEvent('sca.build-issues-opened'), { dispatchId: 'd' });
  assert.equal(build.request.subject, 'Issues detected in XAPUtil.Web 25.4.2');
  assert.match(build.request.body, /projectBuildId=1042&resolved=Unresolved/);
});

test('channel: recipients rendered from templates, request shows from/to/cc/bcc/subject/body', () => {
  const sender = fakeSender();
  const { driver } = createEmailChannel(
    {
      to: '$UserName@corp.local; lead@corp.local',
      cc: 'Feed Owners <$FeedName@corp.local>',
      bcc: 'audit@corp.local',
      subject: '[$FeedName] $PackageId',
      body: 'Version $PackageVersion',
    },
    sender,
    kit,
  );
  const p = driver.prepare(sampleEvent('package.added'), { dispatchId: 'd' });
  assert.deepEqual(p.request, {
    method: 'SMTP',
    url: 'smtp://127.0.0.1:2525',
    from: 'ProGet <proget@example.com>',
    to: ['API@corp.local', 'lead@corp.local'],
    cc: ['Feed Owners <internal-utils@corp.local>'],
    bcc: ['audit@corp.local'],
    subject: '[internal-utils] MyCorp.CoolUtils',
    contentType: 'text/plain',
    body: 'Version 3.2.0-pre.1',
  });
  assert.equal(p.key, 'smtp://127.0.0.1:2525');
});

test('channel: an empty To after rendering, or an invalid rendered address, fails before sending', () => {
  const sender = fakeSender();
  const { driver } = createEmailChannel({ to: '$Coalesce($FeedName,x)$Coalesce(,)' }, sender, kit);
  assert.throws(
    () => driver.prepare(sampleEvent('package.added'), { dispatchId: 'd' }),
    (e) => e.code === 'recipients' && /is not an email address/.test(e.message),
  );
  const empty = createEmailChannel({ to: '<% if $FeedName == nope { %>a@b.c<% } %>' }, sender, kit).driver;
  assert.throws(
    () => empty.prepare(sampleEvent('package.added'), { dispatchId: 'd' }),
    (e) => e.name === 'PrepareError' && e.code === 'recipients' && e.permanent === true && /To is empty after rendering/.test(e.message),
  );
  assert.equal(sender.sent.length, 0);
});

test('channel: config errors at build (missing To, bad fixed address, template syntax)', () => {
  const sender = fakeSender();
  assert.throws(
    () => createEmailChannel({}, sender, kit),
    (e) => e.name === 'ConfigError' && e.property === 'to' && /to is required/.test(e.message),
  );
  assert.throws(
    () => createEmailChannel({ to: ' ; ' }, sender, kit),
    (e) => e.property === 'to',
  );
  assert.throws(
    () => createEmailChannel({ to: 'a@x.io', cc: 'nobody' }, sender, kit),
    (e) => e.property === 'cc' && /"nobody"/.test(e.message),
  );
  assert.throws(
    () => createEmailChannel({ to: 'a@x.io', subject: '$Nope(' }, sender, kit),
    (e) => e.property === 'subject',
  );
  assert.throws(
    () => createEmailChannel({ to: 'a@x.io', html: 'yes' }, sender, kit),
    (e) => e.property === 'html',
  );
});

test('channel: HTML mode escapes variable values, keeps template markup and adds a text alternative', () => {
  const sender = fakeSender();
  const { driver } = createEmailChannel(
    { to: 'a@x.io', html: true, subject: 'New: $PackageId', body: '<p><b>$PackageId</b> in $FeedName</p>' },
    sender,
    kit,
  );
  const event = sampleEvent('package.added');
  event.vars.PackageId = '<script>alert("x")</script>';
  const p = driver.prepare(event, { dispatchId: 'd' });
  assert.equal(p.request.contentType, 'text/html');
  assert.equal(p.request.body, '<p><b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;</b> in internal-utils</p>');
  assert.equal(p.request.subject, 'New: <script>alert("x")</script>');
  return p.attempt({ attempt: 1, signal: new AbortController().signal, timeoutMs: 1000, now: Date.now() }).then((r) => {
    assert.equal(r.kind, 'delivered');
    const mail = sender.sent[0];
    assert.equal(mail.html, p.request.body);
    assert.equal(mail.text, '<script>alert("x")</script> in internal-utils');
  });
});

test('channel: HTML mode with the default body sends the escaped text with its line breaks', () => {
  const sender = fakeSender();
  const { driver } = createEmailChannel({ to: 'a@x.io', html: 'true' }, sender, kit);
  const event = sampleEvent('sca.noncompliant-package');
  event.vars.PackageComplianceDetails = '<img src=x onerror=alert(1)>';
  const p = driver.prepare(event, { dispatchId: 'd' });
  assert.match(p.request.body, /^<div style="white-space: pre-wrap/);
  assert.match(p.request.body, /Reason: &lt;img src=x onerror=alert\(1\)&gt;/);
  assert.doesNotMatch(p.request.body, /<img/);
});

test('channel: attempt results carry the SMTP reply; errors are classified', async () => {
  const ok = fakeSender();
  const r1 = await createEmailChannel({ to: 'a@x.io' }, ok, kit)
    .driver.prepare(sampleEvent('package.added'), { dispatchId: 'd' })
    .attempt({ attempt: 1, signal: new AbortController().signal, timeoutMs: 1000, now: 0 });
  assert.deepEqual(r1, { kind: 'delivered', status: 250, response: { status: 250, body: '250 OK queued', accepted: ['a@x.io'], rejected: [] } });
  const failing = fakeSender({
    async send() {
      throw Object.assign(new Error('Message failed: 451 4.3.0 later'), {
        code: 'EMESSAGE',
        responseCode: 451,
        response: '451 4.3.0 later',
        command: 'DATA',
      });
    },
  });
  const r2 = await createEmailChannel({ to: 'a@x.io' }, failing, kit)
    .driver.prepare(sampleEvent('package.added'), { dispatchId: 'd' })
    .attempt({ attempt: 1, signal: new AbortController().signal, timeoutMs: 1000, now: 0 });
  assert.equal(r2.kind, 'retryable');
  assert.equal(r2.code, 'smtp_451');
  assert.equal(r2.response.body, '451 4.3.0 later');
});

test('attemptTimeoutMs covers connect, greeting and socket waits within the policy limits', () => {
  assert.equal(attemptTimeoutMs({ connectionMs: 10_000, greetingMs: 10_000, socketMs: 30_000 }), 80_000);
  assert.equal(attemptTimeoutMs({ connectionMs: 100, greetingMs: 100, socketMs: 100 }), 10_000);
  assert.equal(attemptTimeoutMs({ connectionMs: 1e6, greetingMs: 1e6, socketMs: 1e6 }), 300_000);
});

// ---------------------------------------------------------------------------------------------
// the client

function fakeTransportFactory() {
  const made = [];
  const factory = (options) => {
    const t = {
      options,
      closed: [],
      sent: [],
      async sendMail(m) {
        t.sent.push(m);
        if (t.hold) await t.hold;
        return { response: '250 ok', accepted: m.to.map((x) => x.address), rejected: [], messageId: '<id@x>' };
      },
      close(o) {
        t.closed.push(o || {});
      },
    };
    made.push(t);
    return t;
  };
  return { made, factory };
}

const mail = { from: { address: 'p@x.io' }, to: [{ address: 'a@x.io' }], cc: [], bcc: [], subject: 's', text: 't' };

test('SmtpClient creates no transport before the first send, then one shared pool', async () => {
  const { made, factory } = fakeTransportFactory();
  const client = new SmtpClient(smtpSettings({ ...base, port: 2525 }), { createTransport: factory });
  assert.equal(made.length, 0);
  assert.equal(client.open, false);
  await client.send(mail);
  await client.send(mail);
  assert.equal(made.length, 1);
  assert.equal(made[0].options.pool, true);
  assert.equal(made[0].sent.length, 2);
  assert.equal(client.key, 'smtp://smtp.example.com:2525');
});

test('SmtpClient closes its pool when the last lease is released, and reopens on demand', async () => {
  const { made, factory } = fakeTransportFactory();
  const client = new SmtpClient(smtpSettings(base), { createTransport: factory });
  const r1 = client.acquire();
  const r2 = client.acquire();
  await client.send(mail);
  r1();
  r1(); // released once only
  assert.equal(made[0].closed.length, 0);
  r2();
  assert.deepEqual(made[0].closed, [{}]);
  assert.equal(client.open, false);
  await client.send(mail);
  assert.equal(made.length, 2);
});

test('SmtpClient.close waits for sends in flight, then forces the pool closed; later sends fail as shutdown', async () => {
  const { made, factory } = fakeTransportFactory();
  const client = new SmtpClient(smtpSettings(base), { createTransport: factory });
  await client.send(mail);
  let release;
  made[0].hold = new Promise((r) => (release = r));
  const inFlight = client.send(mail);
  const closed = client.close(5_000);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(made[0].closed, [{}]); // graceful close first
  release();
  await inFlight;
  await closed;
  assert.deepEqual(made[0].closed, [{}, { force: true }]);
  await assert.rejects(client.send(mail), (e) => e instanceof SmtpClosedError && e.code === 'shutdown');
});

// ---------------------------------------------------------------------------------------------
// against a real smtp-server

test('SmtpClient against smtp-server: bcc only in the envelope, STARTTLS used, pool closed on close', async (t) => {
  const srv = await startSmtpServer();
  t.after(() => srv.close());
  const client = new SmtpClient(
    smtpSettings({ host: '127.0.0.1', port: srv.port, security: 'starttls', rejectUnauthorized: false, from: 'ProGet <proget@example.com>' }),
  );
  const sent = await client.send({
    ...mail,
    from: { name: 'ProGet', address: 'proget@example.com' },
    cc: [{ address: 'c@x.io' }],
    bcc: [{ address: 'hidden@x.io' }],
  });
  assert.equal(sent.status, 250);
  assert.deepEqual(sent.accepted.sort(), ['a@x.io', 'c@x.io', 'hidden@x.io']);
  const m = await srv.message(1);
  assert.equal(m.secure, true);
  assert.deepEqual(m.envelope.to.sort(), ['a@x.io', 'c@x.io', 'hidden@x.io']);
  assert.equal(m.mail.bcc, undefined);
  assert.doesNotMatch(m.raw, /hidden@x\.io/);
  assert.equal(srv.openConnections, 1); // pooled: kept open
  await client.close();
  const { waitFor } = require('../helpers/smtp');
  await waitFor(() => srv.openConnections === 0, 3000, 'the pooled connection to close');
});

test('SmtpClient: a silent server fails the send with a greeting timeout (no hang)', async (t) => {
  const silent = await startSilentServer();
  t.after(() => silent.close());
  const client = new SmtpClient(smtpSettings({ host: '127.0.0.1', port: silent.port, security: 'none', from: 'p@x.io' }), {
    timeouts: { connectionMs: 500, greetingMs: 200, socketMs: 500 },
  });
  t.after(() => client.close(0));
  const err = await client.send(mail).then(
    () => assert.fail('should fail'),
    (e) => e,
  );
  const r = classifySmtpError(err, client.settings);
  assert.equal(r.kind, 'retryable');
  assert.equal(r.code, 'ETIMEDOUT');
  assert.match(r.message, /no SMTP greeting/);
});

test('SmtpClient: the engine abort signal cancels a send in flight', async (t) => {
  const silent = await startSilentServer();
  t.after(() => silent.close());
  const client = new SmtpClient(smtpSettings({ host: '127.0.0.1', port: silent.port, security: 'none', from: 'p@x.io' }));
  t.after(() => client.close(0));
  const ac = new AbortController();
  const p = client.send(mail, ac.signal);
  setTimeout(() => ac.abort(new Error('timeout')), 50);
  const err = await p.then(
    () => assert.fail('should fail'),
    (e) => e,
  );
  assert.equal(classifySmtpError(err).code, 'EABORT');
});

test('Dispatcher + engine + real server: a refused connection is retried, then recorded as failed', async () => {
  const port = await closedPort();
  const client = new SmtpClient(smtpSettings({ host: '127.0.0.1', port, security: 'none', from: 'p@x.io' }));
  const ch = createEmailChannel({ to: 'a@x.io' }, client, kit);
  const engine = new DeliveryEngine({ ...ch.engine, policy: { ...ch.engine.policy, maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 10 } });
  const d = new Dispatcher({ engine, driver: ch.driver, notifier: 'n', notifierId: 'n1' });
  const record = await d.dispatch(sampleEvent('package.added'));
  await d.close();
  await client.close();
  assert.equal(record.outcome, 'failed');
  assert.equal(record.attempts, 3);
  assert.equal(record.error.code, 'ECONNREFUSED');
  assert.equal(record.error.permanent, false);
  assert.equal(record.request.to[0], 'a@x.io');
});

test('the TLS fixture is a self-signed certificate for localhost', () => {
  const { X509Certificate } = require('node:crypto');
  const x = new X509Certificate(TLS.cert);
  assert.match(x.subject, /CN=localhost/);
  assert.equal(x.issuer, x.subject);
});

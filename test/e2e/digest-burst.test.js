'use strict';
// The digest node in a real Node-RED runtime: a burst of 10,000 package.promoted events given to the digest node as
// notifier-event emits them (HTTP intake on this shared machine takes a few hundred events a second, too slow for a
// burst within 5 s; the 202-after-store path is in digest-sigkill.test.js) reaches a receiver answering as Slack as at most 3
// messages that count every event exactly once, and also arrives as a Teams card (Microsoft's adaptivecards parser,
// no warning) and as an email readable as text and HTML (smtp-server + mailparser); a lone event of a quiet group
// arrives alone, unchanged (the single-event default message), within wait + 1 s.
const test = require('node:test');
const assert = require('node:assert/strict');
const { startRuntime } = require('../helpers/nr');
const { cardProblems, startSlackReceiver, startTeamsReceiver, slackPayloadError } = require('../helpers/receivers');
const { startSmtpServer } = require('../helpers/smtp');
const { eventually, numberedEvent } = require('../helpers/durable');
const { normalizeEvent } = require('../../dist/core/events');

const EVENTS = 10_000;
const WAIT_S = 2;

/** The events a Slack message counts: a digest states it in its header ("10,000 events in …"), a single event is one. */
function slackCount(body) {
  const m = /^([\d,]+) events? in /.exec(JSON.parse(body).blocks[0].text.text);
  return m ? Number(m[1].replace(/,/g, '')) : 1;
}

test('10,000 events within seconds: at most 3 Slack messages counting every event once; Teams and email digests; a lone event alone within wait + 1 s', async () => {
  const slack = await startSlackReceiver();
  const teams = await startTeamsReceiver();
  const smtp = await startSmtpServer();
  const rt = await startRuntime();
  try {
    await rt.deploy([
      { id: 'tab', type: 'tab', label: 'digest burst' },
      { id: 'ev', type: 'notifier-event', z: 'tab', path: '/bulk', events: [], auth: 'none', wires: [['dg']] },
      {
        id: 'dg',
        type: 'notifier-digest',
        z: 'tab',
        name: 'bulk digest',
        wait: String(WAIT_S),
        threshold: '3',
        interval: '10',
        maxEvents: '1000',
        wires: [['sl', 'tm', 'em']],
      },
      { id: 'sl', type: 'notifier-slack', z: 'tab', name: 'slack out', text: '', credentials: { url: slack.webhookUrl }, wires: [[]] },
      {
        id: 'tm',
        type: 'notifier-teams',
        z: 'tab',
        name: 'teams out',
        title: '',
        text: '',
        format: 'adaptive',
        credentials: { url: teams.url('/workflows/x') },
        wires: [[]],
      },
      {
        id: 'em',
        type: 'notifier-email',
        z: 'tab',
        name: 'email out',
        smtp: 'smtpcfg',
        to: 'team@example.com',
        subject: '',
        body: '',
        html: false,
        wires: [[]],
      },
      {
        id: 'smtpcfg',
        type: 'notifier-smtp',
        name: 'catcher',
        host: '127.0.0.1',
        port: String(smtp.port),
        security: 'none',
        authType: 'none',
        from: 'proget@localhost',
      },
    ]);
    // the events as notifier-event emits them (normalized before the clock starts), straight to the digest node
    const digestNode = rt.RED.nodes.getNode('dg');
    const events = Array.from({ length: EVENTS }, (_, i) => normalizeEvent(numberedEvent(i, 'burst'), { source: 'input' }));
    const started = Date.now();
    for (let i = 0; i < EVENTS; i++) {
      const event = events[i];
      digestNode.receive({ event, payload: event.vars, topic: event.type });
      if (i % 500 === 499) await new Promise((r) => setImmediate(r));
    }
    const postedMs = Date.now() - started;
    console.log(`# gave ${EVENTS} events to the digest node in ${postedMs} ms`);

    // the lone event: another feed, once the burst's first digest went out (so Slack's 1 message/s does not delay it)
    await eventually(() => slack.requests.length >= 1, 15_000, 'the first digest at Slack');
    const lone = numberedEvent(1, 'lone');
    lone.vars.FeedName = 'quiet-feed';
    lone.vars.PackageId = 'Lonely.Package';
    const loneAt = Date.now();
    rt.RED.nodes.getNode('ev').receive({ payload: lone });
    await eventually(() => slack.requests.some((r) => r.body.includes('Lonely.Package')), (WAIT_S + 5) * 1000, 'the lone event at Slack');
    const loneMs = slack.requests.find((r) => r.body.includes('Lonely.Package')).at - loneAt;
    assert.ok(loneMs <= (WAIT_S + 1) * 1000, `the lone event arrived ${loneMs} ms after it was given (wait ${WAIT_S} s + 1 s)`);
    const loneBody = JSON.parse(slack.requests.find((r) => r.body.includes('Lonely.Package')).body);
    assert.equal(loneBody.blocks[0].text.text, 'Package Promoted', 'the single-event message, not a digest');
    assert.match(loneBody.text, /\*Lonely\.Package\* 3\.2\.0-pre\.1 promoted to \*quiet-feed\*/);

    // every burst event counted exactly once across the Slack digests (the interval is 10 s: wait for the last one)
    const digests = () => slack.requests.filter((r) => !r.body.includes('Lonely.Package'));
    await eventually(() => digests().reduce((n, r) => n + slackCount(r.body), 0) >= EVENTS, 40_000, 'digests counting every event').catch((err) => {
      throw new Error(`${err.message}; Slack got: ${slack.requests.map((r) => JSON.parse(r.body).text).join(' | ')}`);
    });
    await new Promise((r) => setTimeout(r, 1500)); // nothing more may come
    const sl = digests();
    assert.ok(sl.length >= 1 && sl.length <= 3, `${sl.length} Slack messages for the burst`);
    assert.equal(
      sl.reduce((n, r) => n + slackCount(r.body), 0),
      EVENTS,
    );
    for (const r of sl) assert.equal(slackPayloadError(r.body), undefined, 'within Slack limits');
    assert.ok(
      sl.some((r) => /… and [\d,]+ more/.test(r.body)),
      'a digest lists the first events and counts the rest',
    );

    // Teams: the same digests as cards that parse cleanly; email: text and HTML
    await eventually(() => teams.requests.length >= sl.length + 1, 20_000, 'the Teams digests');
    for (const r of teams.requests) {
      assert.ok(Buffer.byteLength(r.body) <= 28 * 1024);
      assert.deepEqual(cardProblems(JSON.parse(r.body).attachments[0].content), []);
    }
    await eventually(() => smtp.messages.length >= sl.length + 1, 20_000, 'the emails');
    const digestMail = smtp.messages.find((m) => /^[\d]+ events in /.test(m.mail.subject));
    assert.ok(digestMail, smtp.messages.map((m) => m.mail.subject).join(' | '));
    assert.match(digestMail.mail.subject, /^\d+ events in quiet-feed\/Promoted$|^\d+ events in internal-utils\/Promoted$/);
    assert.match(digestMail.mail.text, /^[\d,]+ events in internal-utils\/Promoted\./);
    assert.match(
      digestMail.mail.text,
      /\* pkg-\d+ 3\.2\.0-pre\.1 Promoted on internal-utils by API\n {2}https:\/\/proget\.example\.com\/feeds\/internal-utils\/pkg-\d+\/3\.2\.0-pre\.1/,
    );
    assert.match(
      digestMail.mail.html,
      /<table[^>]*>.*<a href="https:\/\/proget\.example\.com\/feeds\/internal-utils\/pkg-\d+\/3\.2\.0-pre\.1">pkg-\d+ 3\.2\.0-pre\.1 Promoted/s,
    );
    console.log(`# ${sl.length} Slack digest(s) (${sl.map((r) => slackCount(r.body)).join(' + ')}); lone event after ${loneMs} ms`);
  } finally {
    await rt.stop();
    await Promise.all([slack.close(), teams.close(), smtp.close()]);
  }
});

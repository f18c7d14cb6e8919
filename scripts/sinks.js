'use strict';
// Local sinks for `npm start`: an SMTP catcher (smtp-server + mailparser) and an HTTP receiver that
// answers as Slack (/slack/... -> 200 "ok"), as Teams Workflows (/teams/... -> 202) and as a plain
// webhook endpoint (anything else -> 200 JSON), logging everything it gets (each mail: from, to, subject
// and its first lines of text). Loopback only.
const http = require('node:http');

function log(kind, text) {
  const at = new Date().toISOString().slice(11, 19);
  console.log(`[${at}] [sink:${kind}] ${text}`);
}

/** A received mail in a few lines: from, to, subject and the first lines of its text. */
function mailSummary(mail, maxLines = 6) {
  const text = (mail.text || (mail.html ? String(mail.html).replace(/<[^>]*>/g, ' ') : '')).replace(/\r\n?/g, '\n').trim();
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const shown = lines.slice(0, maxLines).map((l) => `    | ${l.length > 120 ? l.slice(0, 119) + '…' : l}`);
  if (lines.length > maxLines) shown.push(`    | … (${lines.length - maxLines} more line${lines.length - maxLines === 1 ? '' : 's'})`);
  return [
    `mail to ${mail.to?.text ?? '?'}: "${mail.subject ?? ''}"`,
    `    from: ${mail.from?.text ?? '?'}`,
    ...(mail.cc?.text ? [`    cc: ${mail.cc.text}`] : []),
    ...(shown.length ? shown : ['    | (no text)']),
  ].join('\n');
}

function startHttpSink(port = 1881, host = '127.0.0.1') {
  const received = [];
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      received.push({ method: req.method, url: req.url, headers: req.headers, body });
      log('http', `${req.method} ${req.url} ${body.length} bytes: ${body.slice(0, 300).replace(/\s+/g, ' ')}`);
      if (req.url.startsWith('/slack/')) {
        res.writeHead(200, { 'content-type': 'text/plain' });
        return res.end('ok');
      }
      if (req.url.startsWith('/teams/')) {
        res.writeHead(202);
        return res.end();
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ received: true }));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, received, url: `http://${host}:${server.address().port}` }));
  });
}

function startSmtpSink(port = 2525, host = '127.0.0.1') {
  const { SMTPServer } = require('smtp-server');
  const { simpleParser } = require('mailparser');
  const messages = [];
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    allowInsecureAuth: true,
    disabledCommands: ['STARTTLS'],
    onAuth(auth, session, cb) {
      cb(null, { user: auth.username || 'demo' });
    },
    onData(stream, session, cb) {
      simpleParser(stream)
        .then((mail) => {
          messages.push(mail);
          log('smtp', mailSummary(mail));
          cb();
        })
        .catch(cb);
    },
    logger: false,
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, messages, host, port: server.server.address().port }));
  });
}

module.exports = { startHttpSink, startSmtpSink, mailSummary };

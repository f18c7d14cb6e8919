'use strict';
// A real SMTP server for the email tests (smtp-server on 127.0.0.1), recording what it gets: every
// message parsed with mailparser plus its envelope (MAIL FROM / RCPT TO, so Bcc shows), every AUTH,
// and the open connections. Replies can be scripted per message to test the delivery policy.
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { SMTPServer } = require('smtp-server');
const { simpleParser } = require('mailparser');

const TLS_DIR = path.join(__dirname, '..', 'fixtures', 'tls');
/** The self-signed test certificate (CN=localhost, IP 127.0.0.1) and its key. */
const TLS = {
  key: fs.readFileSync(path.join(TLS_DIR, 'key.pem')),
  cert: fs.readFileSync(path.join(TLS_DIR, 'cert.pem')),
};

function smtpError(code, text) {
  const err = new Error(text || `${code} scripted reply`);
  err.responseCode = code;
  return err;
}

async function waitFor(pred, timeoutMs = 5000, what = 'condition') {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Starts an SMTP server on 127.0.0.1 (random port).
 * options:
 * - secure: implicit TLS from the first byte (port-465 style)
 * - starttls: offer STARTTLS (default true; false removes it)
 * - auth: { user, pass } (PLAIN/LOGIN) or { accessToken, user } (XOAUTH2); omitted = no AUTH
 * - dataReplies: SMTP codes to answer the successive DATA commands with, e.g. [451] (then 250)
 * - rcptReply(address) → code | undefined: rejects recipients
 */
async function startSmtpServer(options = {}) {
  const state = {
    messages: [],
    auths: [],
    connects: 0,
    dataCommands: 0,
    sessions: new Set(),
  };
  const dataReplies = [...(options.dataReplies || [])];
  const waiters = [];
  const serverOptions = {
    secure: !!options.secure,
    key: TLS.key,
    cert: TLS.cert,
    logger: false,
    disableReverseLookup: true,
    authOptional: !options.auth,
    allowInsecureAuth: true,
    disabledCommands: [...(options.auth ? [] : ['AUTH']), ...(options.starttls === false ? ['STARTTLS'] : [])],
    ...(options.auth && options.auth.accessToken ? { authMethods: ['XOAUTH2'] } : {}),
    onConnect(session, cb) {
      state.connects += 1;
      cb();
    },
    onAuth(auth, session, cb) {
      state.auths.push({ method: auth.method, username: auth.username, password: auth.password, accessToken: auth.accessToken });
      const want = options.auth || {};
      if (auth.method === 'XOAUTH2') {
        if (auth.username === want.user && auth.accessToken === want.accessToken) return cb(null, { user: auth.username });
        return cb(null, { data: { status: '401', schemes: 'bearer', scope: 'https://mail.google.com/' } });
      }
      if (auth.username === want.user && auth.password === want.pass) return cb(null, { user: auth.username });
      return cb(smtpError(535, '5.7.8 Username and Password not accepted'));
    },
    onRcptTo(address, session, cb) {
      const code = options.rcptReply && options.rcptReply(address.address);
      if (code) return cb(smtpError(code, code >= 500 ? '5.1.1 No such user here' : '4.2.1 Mailbox busy, try later'));
      cb();
    },
    onData(stream, session, cb) {
      const chunks = [];
      stream.on('data', (c) => chunks.push(c));
      stream.on('end', async () => {
        state.dataCommands += 1;
        const scripted = dataReplies.shift();
        if (scripted && scripted !== 250) {
          const text = scripted >= 500 ? '5.7.1 Message rejected as spam' : '4.3.0 Temporary failure, try again later';
          return cb(smtpError(scripted, text));
        }
        const raw = Buffer.concat(chunks);
        try {
          const parsed = await simpleParser(raw);
          state.messages.push({
            envelope: {
              from: session.envelope.mailFrom && session.envelope.mailFrom.address,
              to: session.envelope.rcptTo.map((r) => r.address),
            },
            secure: session.secure,
            user: session.user,
            mail: parsed,
            raw: raw.toString('utf8'),
          });
          for (const w of waiters.splice(0)) w();
          cb(null, 'OK: queued as TEST' + state.messages.length);
        } catch (err) {
          cb(err);
        }
      });
    },
  };
  const server = new SMTPServer(serverOptions);
  server.on('error', () => {}); // a client dropping a connection is not a test failure
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const port = server.server.address().port;
  return {
    server,
    port,
    host: '127.0.0.1',

    get messages() {
      return state.messages;
    },
    get auths() {
      return state.auths;
    },
    get connects() {
      return state.connects;
    },
    get dataCommands() {
      return state.dataCommands;
    },
    /** connections open now */
    get openConnections() {
      return server.connections.size;
    },
    /** resolves with the n-th message (1-based) once it arrived */
    async message(n = 1, timeoutMs = 5000) {
      await waitFor(() => state.messages.length >= n, timeoutMs, `message ${n}`);
      return state.messages[n - 1];
    },
    close() {
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * A TCP listener on 127.0.0.1 that accepts connections and never says anything (a hung SMTP
 * server), counting the connections it got.
 */
async function startSilentServer() {
  const sockets = new Set();
  let connects = 0;
  const server = net.createServer((s) => {
    connects += 1;
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: server.address().port,
    get connects() {
      return connects;
    },
    get open() {
      return sockets.size;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port on 127.0.0.1 where nothing listens (connections are refused). */
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

module.exports = { startSmtpServer, startSilentServer, closedPort, waitFor, TLS };

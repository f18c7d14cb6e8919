'use strict';
// Lean receivers for the benchmarks, on 127.0.0.1: an HTTP sink (counts requests, optional delay,
// a callback per request body) and an SMTP sink (smtp-server, counts messages without parsing them).
const http = require('node:http');

/**
 * options: { delayMs, status, onBody(path, body) }. Returns { url(path), count, close() }.
 * Answers `status` (200) with an empty body after `delayMs` (0).
 */
async function startHttpSink(options = {}) {
  const sink = { count: 0, byPath: {} };
  const sockets = new Set();
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      sink.count++;
      const p = req.url.split('?')[0];
      sink.byPath[p] = (sink.byPath[p] || 0) + 1;
      if (options.onBody) options.onBody(p, Buffer.concat(chunks).toString('utf8'));
      const answer = () => {
        if (res.destroyed) return;
        res.writeHead(options.status || 200, { 'content-length': 0 });
        res.end();
      };
      if (options.delayMs) setTimeout(answer, options.delayMs);
      else answer();
    });
  });
  server.keepAliveTimeout = 30000;
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${server.address().port}`;
  sink.base = base;
  sink.url = (p = '/hook') => base + p;
  sink.connections = () => sockets.size;
  sink.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  return sink;
}

/** An SMTP server that accepts everything and counts the messages (no parsing). */
async function startSmtpSink() {
  const { SMTPServer } = require('smtp-server');
  const sink = { count: 0, connections: 0, maxConnections: 0, open: 0 };
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    // no reverse DNS per connection: it would slow down the peer (a connection per message) for nothing
    disableReverseLookup: true,
    logger: false,
    size: 10 * 1024 * 1024,
    onConnect(session, cb) {
      sink.connections++;
      sink.open++;
      sink.maxConnections = Math.max(sink.maxConnections, sink.open);
      cb();
    },
    onClose() {
      sink.open--;
    },
    onData(stream, session, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        sink.count++;
        cb();
      });
    },
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  sink.port = server.server.address().port;
  sink.close = () => new Promise((resolve) => server.close(() => resolve()));
  return sink;
}

module.exports = { startHttpSink, startSmtpSink };

'use strict';
// Runs one benchmark module's run(options) in this (fresh) process and prints its result as
// `@@RESULT <json>` on stdout (bench/run.js reads it). Usage: node run-one.js <module> [<options json>]
const path = require('node:path');

const file = path.resolve(process.argv[2]);
const options = JSON.parse(process.argv[3] || '{}');

(async () => {
  const mod = require(file);
  const run = mod.run || (mod.default && mod.default.run);
  if (typeof run !== 'function') throw new Error(`${file} exports no run()`);
  const value = await run(options);
  const list = Array.isArray(value) ? value : [value];
  for (const r of list) process.stdout.write('@@RESULT ' + JSON.stringify(r) + '\n');
  // a benchmark may leave handles open (servers, agents): do not wait for them
  process.exit(0);
})().catch((err) => {
  process.stderr.write(`${(err && err.stack) || err}\n`);
  process.exit(1);
});

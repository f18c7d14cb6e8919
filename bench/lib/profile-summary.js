#!/usr/bin/env node
'use strict';
// Summarizes a V8 .cpuprofile (node --cpu-prof): self time by function and by module (package or
// file of this repo), and inclusive time of chosen functions. Usage:
//   node bench/lib/profile-summary.js <file.cpuprofile> [--top 30] [--grep name]
const fs = require('node:fs');

function load(file) {
  const p = JSON.parse(fs.readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  const dt = p.timeDeltas;
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const d = dt[i] || 0;
    self.set(p.samples[i], (self.get(p.samples[i]) || 0) + d);
    total += d;
  }
  const parent = new Map();
  for (const n of p.nodes) for (const c of n.children || []) parent.set(c, n.id);
  return { p, byId, self, total, parent };
}

function moduleOf(url) {
  if (!url) return '(native)';
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/g);
  if (m) return m[m.length - 1].replace('node_modules/', '');
  if (url.startsWith('node:')) return url;
  const d = url.match(/\/dist\/(.*)$/);
  if (d) return 'dist/' + d[1];
  return url.replace(/^file:\/\//, '');
}

function summarize(file, { top = 30, grep } = {}) {
  const { byId, self, total, parent } = load(file);
  const fn = new Map();
  const mod = new Map();
  for (const [id, t] of self) {
    const n = byId.get(id);
    const cf = n.callFrame;
    const key = `${cf.functionName || '(anonymous)'} ${moduleOf(cf.url)}:${cf.lineNumber + 1}`;
    fn.set(key, (fn.get(key) || 0) + t);
    const m = cf.url ? moduleOf(cf.url) : cf.functionName;
    mod.set(m, (mod.get(m) || 0) + t);
  }
  const pct = (t) => ((100 * t) / total).toFixed(1).padStart(5) + '%';
  const out = [];
  out.push(`total sampled ${(total / 1000).toFixed(0)} ms`);
  out.push('-- self time by module');
  for (const [k, t] of [...mod].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${pct(t)} ${k}`);
  out.push('-- self time by function');
  for (const [k, t] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${pct(t)} ${k}`);
  if (grep) {
    // inclusive time of frames whose function or file matches (counted once per sample)
    const re = new RegExp(grep);
    const incl = new Map();
    for (const [id, t] of self) {
      const seen = new Set();
      for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
        const cf = byId.get(cur).callFrame;
        const key = `${cf.functionName || '(anonymous)'} ${moduleOf(cf.url)}:${cf.lineNumber + 1}`;
        if (!re.test(key) || seen.has(key)) continue;
        seen.add(key);
        incl.set(key, (incl.get(key) || 0) + t);
      }
    }
    out.push(`-- inclusive time matching /${grep}/`);
    for (const [k, t] of [...incl].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${pct(t)} ${k}`);
  }
  return out.join('\n');
}

module.exports = { summarize };
if (require.main === module) {
  const args = process.argv.slice(2);
  const file = args[0];
  const opt = {};
  for (let i = 1; i < args.length; i++) {
    if (args[i] === '--top') opt.top = Number(args[++i]);
    else if (args[i] === '--grep') opt.grep = args[++i];
  }
  console.log(summarize(file, opt));
}

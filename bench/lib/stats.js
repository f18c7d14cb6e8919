'use strict';
// Small statistics and reporting helpers for the benchmarks: medians, percentiles, rounding, the
// result object ({ name, ours, peer, unit, ratio }) and human-readable lines (stderr in --json mode).

function sorted(values) {
  return values.slice().sort((a, b) => a - b);
}

/** Median of numbers (NaN for none). */
function median(values) {
  if (!values.length) return NaN;
  const s = sorted(values);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
function percentile(values, p) {
  if (!values.length) return NaN;
  const s = sorted(values);
  const rank = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[rank];
}

/** Rounds to `digits` significant-ish decimals for display (integers above 100). */
function round(v, digits = 2) {
  if (!Number.isFinite(v)) return v;
  if (Math.abs(v) >= 100) return Math.round(v);
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

/** The result line: ratio > 1 means we are better. */
function result(name, ours, peer, unit, ratio) {
  return { name, ours: round(ours), peer: round(peer), unit, ratio: round(ratio, 3) };
}

/** Logs a detail line: to stderr (stdout is reserved for JSON lines with --json). */
function detail(...parts) {
  process.stderr.write(parts.join(' ') + '\n');
}

/** A high-resolution clock in milliseconds. */
function nowMs() {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Resolves true once `pred()` holds (checked every 20 ms), false after `timeoutMs`. */
async function until(pred, timeoutMs) {
  const end = nowMs() + timeoutMs;
  while (!pred()) {
    if (nowMs() > end) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

module.exports = { median, percentile, round, result, detail, nowMs, until };

/**
 * The time source under the delivery engine. Production uses `systemClock`; tests use `ManualClock`
 * so that retries, backoff and rate limits run in milliseconds and deterministically.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** milliseconds since the epoch */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
  /** uniform in [0, 1): the jitter source */
  random(): number;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, Math.max(0, ms));
    return t;
  },
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};

interface ManualTimer {
  id: number;
  due: number;
  fn: () => void;
}

/**
 * A virtual clock: time only moves when the test calls `advance(ms)` or `runNext()`. Timers due at or
 * before the new time fire in order of due time (then of creation). `random` is fixed (default 0.5) or
 * a function the test gives.
 */
export class ManualClock implements Clock {
  private time: number;
  private seq = 0;
  private timers: ManualTimer[] = [];
  private rnd: () => number;

  constructor(options: { start?: number; random?: number | (() => number) } = {}) {
    this.time = options.start ?? Date.UTC(2026, 0, 1);
    const r = options.random ?? 0.5;
    this.rnd = typeof r === 'function' ? r : () => r;
  }

  now(): number {
    return this.time;
  }

  random(): number {
    return this.rnd();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: ManualTimer = { id: ++this.seq, due: this.time + Math.max(0, ms), fn };
    this.timers.push(timer);
    return timer.id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers = this.timers.filter((t) => t.id !== handle);
  }

  /** Number of timers not yet fired. */
  pending(): number {
    return this.timers.length;
  }

  /** Due time of the earliest timer, if any. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers) if (min === undefined || t.due < min) min = t.due;
    return min;
  }

  /** Moves time forward by `ms`, firing every timer that becomes due (including ones they set). */
  advance(ms: number): void {
    const target = this.time + Math.max(0, ms);
    for (;;) {
      const next = this.earliest();
      if (!next || next.due > target) break;
      this.timers = this.timers.filter((t) => t !== next);
      this.time = Math.max(this.time, next.due);
      next.fn();
    }
    this.time = target;
  }

  /** Jumps to the earliest timer and fires it (and any others due at that same time). Returns false when none. */
  runNext(): boolean {
    const due = this.nextDue();
    if (due === undefined) return false;
    this.advance(due - this.time);
    return true;
  }

  private earliest(): ManualTimer | undefined {
    let best: ManualTimer | undefined;
    for (const t of this.timers) if (!best || t.due < best.due || (t.due === best.due && t.id < best.id)) best = t;
    return best;
  }
}

/**
 * The delivery engine: one per output node. Transport-agnostic: a job is an async `attempt` function
 * that returns a classified result; the engine adds the policy around it:
 *
 * - a timeout per attempt (the attempt gets an AbortSignal, and a late answer is ignored);
 * - retries with exponential backoff and full jitter, or the server's `Retry-After` (capped), which
 *   also pauses the whole destination;
 * - per destination key: a rate limit (spacing between attempts), a concurrency limit and a bounded
 *   FIFO queue (a full queue is a failure with code `queue_full`, never a silent drop);
 * - close(): intake stops, queued and waiting jobs fail at once with code `shutdown`, attempts in
 *   flight get a grace period and are then aborted and recorded as `shutdown`; no timer survives;
 * - every attempt is logged (status or error, duration, the delay before the next one).
 *
 * `submit()` never rejects: every job ends in a `DeliveryOutcome`, delivered or failed.
 */
import type { AttemptLogEntry, DispatchError, DispatchResponse } from '../dispatch';
import { systemClock, type Clock, type TimerHandle } from './clock';
import { RETRYABLE_ERROR_CODES, backoffDelay, describeErrorCode, resolvePolicy, type RetryPolicy } from './policy';

export interface AttemptContext {
  /** 1 for the first attempt */
  attempt: number;
  /** aborted on timeout or shutdown; pass it to the transport */
  signal: AbortSignal;
  timeoutMs: number;
  /** clock time (ms) when this attempt started, e.g. for a signature timestamp */
  now: number;
}

interface ResultBase {
  /** HTTP status or SMTP reply code, when the peer answered */
  status?: number;
  /** what came back (the dispatch record cuts the body at 4 KiB) */
  response?: DispatchResponse;
}

export type AttemptResult =
  | (ResultBase & { kind: 'delivered' })
  | (ResultBase & {
      kind: 'retryable';
      /** e.g. `http_503`, `timeout`, `ECONNREFUSED`, `smtp_421` */
      code: string;
      message: string;
      /** the server's requested wait (Retry-After), in ms */
      retryAfterMs?: number;
    })
  | (ResultBase & { kind: 'permanent'; code: string; message: string });

export type AttemptFn = (ctx: AttemptContext) => Promise<AttemptResult>;

export interface DeliveryJob {
  /** destination key: the rate limit, concurrency and queue are per key (e.g. the webhook URL, the SMTP host) */
  key: string;
  attempt: AttemptFn;
  /** overrides of the engine's policy for this job */
  policy?: Partial<RetryPolicy>;
  /**
   * Classifies an error the attempt function threw (instead of returning a result). Default: Node's
   * network error codes are retryable, anything else is permanent (`internal`).
   */
  classifyError?: (err: unknown) => AttemptResult;
  /**
   * Resumes a job stored earlier (the outbox, after a restart or redeploy): the attempts already made, their
   * log, and when the next attempt is due (clock ms; a time past or absent means now).
   */
  resume?: RetryState;
  /** Called when the job starts waiting to retry, with what a store needs to resume it (see `resume`). */
  onRetryWait?: (state: RetryState) => void;
}

/** Where a job stands between two attempts. */
export interface RetryState {
  attempts: number;
  log: AttemptLogEntry[];
  /** clock ms when the next attempt is due */
  dueAt?: number;
}

export interface DeliveryOutcome {
  outcome: 'delivered' | 'failed';
  attempts: number;
  /** clock ms when the job was submitted */
  startedAt: number;
  durationMs: number;
  attemptLog: AttemptLogEntry[];
  status?: number;
  response?: DispatchResponse;
  error?: DispatchError;
}

export interface LaneOptions {
  /** attempts per second per destination; 0 = unlimited (default 0) */
  ratePerSecond: number;
  /** attempts in flight at once per destination (default 1) */
  concurrency: number;
  /** jobs accepted and not finished per destination (queued, in flight or waiting to retry) (default 1000) */
  queueSize: number;
}

export type EngineEvent =
  | { type: 'queued'; key: string }
  | { type: 'attempt'; key: string; attempt: number }
  | { type: 'attempt-done'; key: string; attempt: number; result: AttemptResult['kind']; status?: number }
  | { type: 'retry-wait'; key: string; attempt: number; delayMs: number }
  | { type: 'rate-wait'; key: string; delayMs: number }
  | { type: 'settled'; key: string; outcome: DeliveryOutcome };

/**
 * Limits per destination shared with other processes (a shared store's `RateGate`): with it, a lane with a rate
 * takes each slot from the gate (one spacing for every process), and a `Retry-After` pauses the destination for all.
 */
export interface SharedGate {
  /** 0: the attempt may start now; else ms to wait before asking again (a failure to ask counts as a wait) */
  acquire(key: string, intervalMs: number): Promise<number>;
  pause(key: string, untilMs: number): void;
  /** when the destination is paused until (ms since the epoch, as far as this process knows; 0 = not paused) */
  pausedUntil(key: string): number;
}

/** How long a lane waits before asking a gate that failed to answer again. */
const GATE_RETRY_MS = 500;

export interface EngineOptions extends Partial<LaneOptions> {
  clock?: Clock;
  gate?: SharedGate;
  policy?: Partial<RetryPolicy>;
  /** called synchronously on every state change (status display, tests) */
  onEvent?: (event: EngineEvent) => void;
}

export interface EngineStats {
  /** waiting for their turn (rate limit, concurrency) */
  queued: number;
  /** attempts running now */
  inFlight: number;
  /** waiting before a retry */
  retrying: number;
}

export const DEFAULT_LANE: Readonly<LaneOptions> = Object.freeze({ ratePerSecond: 0, concurrency: 1, queueSize: 1000 });
/** Default grace period for attempts in flight when the engine closes. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;

interface Job {
  spec: DeliveryJob;
  policy: RetryPolicy;
  lane: Lane;
  startedAt: number;
  attempts: number;
  log: AttemptLogEntry[];
  last?: AttemptResult;
  resolve: (o: DeliveryOutcome) => void;
  /** set while an attempt runs */
  running?: {
    controller: AbortController;
    timer: TimerHandle;
    finish: (r: AttemptResult) => void;
  };
  /** set while waiting to retry */
  retryTimer?: TimerHandle;
  done: boolean;
}

/** FIFO with O(1) push and shift (and unshift for retries, which go first). */
class JobQueue {
  private items: Job[] = [];
  private head = 0;
  get length(): number {
    return this.items.length - this.head;
  }
  push(job: Job): void {
    this.items.push(job);
  }
  unshift(job: Job): void {
    if (this.head > 0) this.items[--this.head] = job;
    else this.items.unshift(job);
  }
  shift(): Job | undefined {
    if (this.head >= this.items.length) return undefined;
    const job = this.items[this.head];
    this.items[this.head++] = undefined as unknown as Job;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return job;
  }
  /** Removes and returns every job, in order. */
  drain(): Job[] {
    const out = this.items.slice(this.head);
    this.items = [];
    this.head = 0;
    return out;
  }
}

interface Lane {
  key: string;
  queue: JobQueue;
  inFlight: Set<Job>;
  waiting: Set<Job>;
  nextSlotAt: number;
  pausedUntil: number;
  timer?: TimerHandle;
  /** a slot is being asked of the shared gate */
  gating?: boolean;
}

function isPlainError(e: unknown): e is { code?: unknown; message?: unknown; name?: unknown } {
  return typeof e === 'object' && e !== null;
}

/** Default classification of an error thrown by an attempt function. */
export function classifyThrown(err: unknown): AttemptResult {
  const code = isPlainError(err) && typeof err.code === 'string' ? err.code : undefined;
  const message = isPlainError(err) && typeof err.message === 'string' ? err.message : String(err);
  if (code && RETRYABLE_ERROR_CODES.has(code)) {
    return { kind: 'retryable', code, message: describeErrorCode(code) ?? message };
  }
  return { kind: 'permanent', code: code ?? 'internal', message };
}

function errorText(r: AttemptResult): string | undefined {
  if (r.kind === 'delivered') return undefined;
  return r.message && r.message !== r.code ? `${r.code}: ${r.message}` : r.code;
}

export class DeliveryEngine {
  readonly clock: Clock;
  readonly policy: RetryPolicy;
  readonly lane: LaneOptions;
  private readonly lanes = new Map<string, Lane>();
  private readonly onEvent?: (event: EngineEvent) => void;
  private readonly gate?: SharedGate;
  private closing = false;
  private closedPromise?: Promise<void>;
  private readonly idleWaiters = new Set<() => void>();

  constructor(options: EngineOptions = {}) {
    this.clock = options.clock ?? systemClock;
    this.policy = resolvePolicy(options.policy);
    const rate = options.ratePerSecond ?? DEFAULT_LANE.ratePerSecond;
    const concurrency = options.concurrency ?? DEFAULT_LANE.concurrency;
    const queueSize = options.queueSize ?? DEFAULT_LANE.queueSize;
    if (!Number.isFinite(rate) || rate < 0) throw new RangeError(`ratePerSecond must be 0 or more, got ${rate}`);
    if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be an integer of 1 or more, got ${concurrency}`);
    if (!Number.isInteger(queueSize) || queueSize < 1) throw new RangeError(`queueSize must be an integer of 1 or more, got ${queueSize}`);
    this.lane = { ratePerSecond: rate, concurrency, queueSize };
    if (options.onEvent) this.onEvent = options.onEvent;
    if (options.gate) this.gate = options.gate;
  }

  /** true once close() was called: new jobs fail at once with `shutdown` */
  get closed(): boolean {
    return this.closing;
  }

  stats(): EngineStats {
    let queued = 0;
    let inFlight = 0;
    let retrying = 0;
    for (const lane of this.lanes.values()) {
      queued += lane.queue.length;
      inFlight += lane.inFlight.size;
      retrying += lane.waiting.size;
    }
    return { queued, inFlight, retrying };
  }

  /** Accepts a job. The promise always resolves, with the job's outcome. */
  submit(spec: DeliveryJob): Promise<DeliveryOutcome> {
    const startedAt = this.clock.now();
    if (this.closing) {
      return Promise.resolve(this.failedNow(startedAt, 'shutdown', 'the node is stopping; nothing was sent'));
    }
    let policy: RetryPolicy;
    try {
      policy = spec.policy ? resolvePolicy({ ...this.policy, ...spec.policy }) : this.policy;
    } catch (err) {
      return Promise.resolve(this.failedNow(startedAt, 'config', (err as Error).message, true));
    }
    const lane = this.laneFor(spec.key);
    const accepted = lane.queue.length + lane.inFlight.size + lane.waiting.size;
    if (accepted >= this.lane.queueSize) {
      return Promise.resolve(
        this.failedNow(startedAt, 'queue_full', `the queue for this destination is full (${this.lane.queueSize} messages waiting); nothing was sent`),
      );
    }
    return new Promise<DeliveryOutcome>((resolve) => {
      const resume = spec.resume;
      const attempts = resume && Number.isInteger(resume.attempts) && resume.attempts > 0 ? resume.attempts : 0;
      const job: Job = { spec, policy, lane, startedAt, attempts, log: resume ? [...resume.log] : [], resolve, done: false };
      const wait = resume?.dueAt !== undefined ? resume.dueAt - startedAt : 0;
      if (wait > 0) {
        this.waitToRetry(job, wait);
        return;
      }
      lane.queue.push(job);
      this.emit({ type: 'queued', key: lane.key });
      this.pump(lane);
    });
  }

  /**
   * Stops intake and winds down: queued jobs and jobs waiting to retry fail at once (`shutdown`),
   * attempts in flight get `graceMs` to finish (their result counts; no further retry), then they are
   * aborted and fail (`shutdown`). Resolves when every job has settled and no timer is left.
   */
  close(graceMs: number = DEFAULT_CLOSE_GRACE_MS): Promise<void> {
    if (this.closedPromise) return this.closedPromise;
    this.closing = true;
    for (const lane of this.lanes.values()) {
      if (lane.timer !== undefined) {
        this.clock.clearTimeout(lane.timer);
        delete lane.timer;
      }
      for (const job of lane.queue.drain()) this.settleShutdown(job, 'the node stopped before this message was sent');
      for (const job of [...lane.waiting]) {
        if (job.retryTimer !== undefined) this.clock.clearTimeout(job.retryTimer);
        lane.waiting.delete(job);
        this.settleShutdown(job, 'the node stopped while waiting to retry');
      }
    }
    this.closedPromise = new Promise<void>((resolve) => {
      if (this.inFlightCount() === 0) {
        this.lanes.clear();
        resolve();
        return;
      }
      let graceTimer: TimerHandle; // unknown: undefined until the grace timer is set
      const finish = () => {
        if (graceTimer !== undefined) this.clock.clearTimeout(graceTimer);
        this.idleWaiters.delete(finish);
        this.lanes.clear();
        resolve();
      };
      this.idleWaiters.add(finish);
      graceTimer = this.clock.setTimeout(
        () => {
          graceTimer = undefined;
          for (const lane of this.lanes.values()) {
            for (const job of [...lane.inFlight]) {
              const run = job.running;
              if (!run) continue;
              run.controller.abort(new Error('shutdown'));
              run.finish({ kind: 'permanent', code: 'shutdown', message: `the node stopped; the attempt in flight was aborted after ${graceMs} ms` });
            }
          }
        },
        Math.max(0, graceMs),
      );
    });
    return this.closedPromise;
  }

  private inFlightCount(): number {
    let n = 0;
    for (const lane of this.lanes.values()) n += lane.inFlight.size;
    return n;
  }

  private emit(event: EngineEvent): void {
    if (!this.onEvent) return;
    try {
      this.onEvent(event);
    } catch {
      // an observer must never break delivery
    }
  }

  private laneFor(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      if (this.lanes.size >= 256) this.sweepIdleLanes();
      lane = { key, queue: new JobQueue(), inFlight: new Set(), waiting: new Set(), nextSlotAt: 0, pausedUntil: 0 };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  /** Forgets destinations with nothing to do whose rate/pause window has passed. */
  private sweepIdleLanes(): void {
    const now = this.clock.now();
    for (const [key, lane] of this.lanes) {
      if (lane.queue.length || lane.inFlight.size || lane.waiting.size || lane.timer !== undefined) continue;
      if (now >= Math.max(lane.nextSlotAt, lane.pausedUntil)) this.lanes.delete(key);
    }
  }

  private failedNow(startedAt: number, code: string, message: string, permanent = false): DeliveryOutcome {
    return {
      outcome: 'failed',
      attempts: 0,
      startedAt,
      durationMs: 0,
      attemptLog: [],
      error: { code, message, permanent },
    };
  }

  private pump(lane: Lane): void {
    if (this.closing || lane.gating) return;
    while (lane.queue.length > 0 && lane.inFlight.size < this.lane.concurrency) {
      const now = this.clock.now();
      const notBefore = Math.max(lane.nextSlotAt, lane.pausedUntil, this.gate ? this.gate.pausedUntil(lane.key) : 0);
      if (now < notBefore) {
        this.waitForSlot(lane, notBefore - now);
        return;
      }
      if (this.gate && this.lane.ratePerSecond > 0) {
        this.takeSharedSlot(lane, this.gate);
        return;
      }
      const job = lane.queue.shift()!;
      if (this.lane.ratePerSecond > 0) lane.nextSlotAt = now + 1000 / this.lane.ratePerSecond;
      // the slot is measured from the same instant the attempt records as its start
      this.runAttempt(job, now);
    }
  }

  private waitForSlot(lane: Lane, delayMs: number): void {
    if (lane.timer !== undefined) return;
    lane.timer = this.clock.setTimeout(() => {
      delete lane.timer;
      this.pump(lane);
    }, delayMs);
    this.emit({ type: 'rate-wait', key: lane.key, delayMs });
  }

  /** Asks the shared gate for the destination's next slot, then starts the lane's next job (or waits and asks again). */
  private takeSharedSlot(lane: Lane, gate: SharedGate): void {
    lane.gating = true;
    const intervalMs = 1000 / this.lane.ratePerSecond;
    gate
      .acquire(lane.key, intervalMs)
      .catch(() => GATE_RETRY_MS)
      .then((waitMs) => {
        lane.gating = false;
        if (this.closing) return;
        if (waitMs > 0) return this.waitForSlot(lane, waitMs);
        const job = lane.queue.shift();
        if (job) {
          const now = this.clock.now();
          lane.nextSlotAt = now + intervalMs;
          this.runAttempt(job, now);
        }
        this.pump(lane);
      })
      .catch(() => undefined);
  }

  private runAttempt(job: Job, now?: number): void {
    const lane = job.lane;
    job.attempts += 1;
    const attempt = job.attempts;
    const controller = new AbortController();
    const started = now ?? this.clock.now();
    lane.inFlight.add(job);
    this.emit({ type: 'attempt', key: lane.key, attempt });

    let finished = false;
    const finish = (result: AttemptResult) => {
      if (finished) return;
      finished = true;
      this.clock.clearTimeout(timer);
      delete job.running;
      lane.inFlight.delete(job);
      const entry: AttemptLogEntry = {
        attempt,
        startedAt: new Date(started).toISOString(),
        durationMs: Math.max(0, this.clock.now() - started),
      };
      if (result.status !== undefined) entry.status = result.status;
      const text = errorText(result);
      if (text !== undefined) entry.error = text;
      job.log.push(entry);
      job.last = result;
      this.emit({
        type: 'attempt-done',
        key: lane.key,
        attempt,
        result: result.kind,
        ...(result.status !== undefined ? { status: result.status } : {}),
      });
      this.afterAttempt(job, result, entry);
      if (this.closing && this.inFlightCount() === 0) for (const w of [...this.idleWaiters]) w();
      else this.pump(lane);
    };
    const timer = this.clock.setTimeout(() => {
      controller.abort(new Error('timeout'));
      finish({ kind: 'retryable', code: 'timeout', message: `no answer within ${job.policy.timeoutMs} ms` });
    }, job.policy.timeoutMs);
    job.running = { controller, timer, finish };

    let p: Promise<AttemptResult>;
    try {
      p = Promise.resolve(job.spec.attempt({ attempt, signal: controller.signal, timeoutMs: job.policy.timeoutMs, now: started }));
    } catch (err) {
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passes on what attempt() threw, as it is
      p = Promise.reject(err);
    }
    const classify = job.spec.classifyError ?? classifyThrown;
    p.then(
      (r) => finish(isAttemptResult(r) ? r : { kind: 'permanent', code: 'internal', message: 'the attempt returned no result' }),
      (err) => {
        let r: AttemptResult;
        try {
          r = classify(err);
        } catch {
          r = classifyThrown(err);
        }
        finish(r);
      },
    );
  }

  private afterAttempt(job: Job, result: AttemptResult, entry: AttemptLogEntry): void {
    if (result.kind === 'delivered') return this.settle(job, 'delivered');
    if (result.kind === 'permanent')
      return this.settle(job, 'failed', { code: result.code, message: result.message, permanent: result.code !== 'shutdown' });
    // retryable
    if (this.closing) {
      return this.settle(job, 'failed', {
        code: 'shutdown',
        message: `the node stopped; not retried after ${errorText(result)}`,
        permanent: false,
      });
    }
    if (job.attempts >= job.policy.maxAttempts) {
      return this.settle(job, 'failed', {
        code: result.code,
        message: `${result.message} (gave up after ${job.attempts} attempt${job.attempts === 1 ? '' : 's'})`,
        permanent: false,
      });
    }
    let delayMs: number;
    const now = this.clock.now();
    if (result.retryAfterMs !== undefined) {
      delayMs = Math.min(Math.max(0, result.retryAfterMs), job.policy.maxRetryAfterMs);
      // the destination asked everyone to wait, not just this message
      job.lane.pausedUntil = Math.max(job.lane.pausedUntil, now + delayMs);
      this.gate?.pause(job.lane.key, now + delayMs);
    } else {
      delayMs = backoffDelay(job.attempts, job.policy, this.clock.random());
    }
    entry.delayMs = delayMs;
    if (job.spec.onRetryWait) {
      try {
        job.spec.onRetryWait({ attempts: job.attempts, log: job.log, dueAt: now + delayMs });
      } catch {
        // persisting the wait is best effort: the job still retries in this process
      }
    }
    this.waitToRetry(job, delayMs);
  }

  /** Parks a job until its next attempt is due (then it goes before new work of its destination). */
  private waitToRetry(job: Job, delayMs: number): void {
    const lane = job.lane;
    lane.waiting.add(job);
    this.emit({ type: 'retry-wait', key: lane.key, attempt: job.attempts, delayMs });
    job.retryTimer = this.clock.setTimeout(() => {
      delete job.retryTimer;
      lane.waiting.delete(job);
      if (this.closing) return; // close() settled it already
      lane.queue.unshift(job); // a retry goes before new work
      this.pump(lane);
    }, delayMs);
  }

  private settleShutdown(job: Job, message: string): void {
    const last = job.last && job.last.kind !== 'delivered' ? ` (last attempt: ${errorText(job.last)})` : '';
    this.settle(job, 'failed', { code: 'shutdown', message: message + last, permanent: false });
  }

  private settle(job: Job, outcome: 'delivered' | 'failed', error?: DispatchError): void {
    if (job.done) return;
    job.done = true;
    const out: DeliveryOutcome = {
      outcome,
      attempts: job.attempts,
      startedAt: job.startedAt,
      durationMs: Math.max(0, this.clock.now() - job.startedAt),
      attemptLog: job.log,
    };
    if (job.last?.status !== undefined) out.status = job.last.status;
    if (job.last?.response) out.response = job.last.response;
    if (error) out.error = error;
    const lane = job.lane;
    if (
      !this.closing &&
      lane.queue.length === 0 &&
      lane.inFlight.size === 0 &&
      lane.waiting.size === 0 &&
      lane.timer === undefined &&
      this.clock.now() >= Math.max(lane.nextSlotAt, lane.pausedUntil)
    ) {
      this.lanes.delete(lane.key);
    }
    this.emit({ type: 'settled', key: lane.key, outcome: out });
    job.resolve(out);
  }
}

function isAttemptResult(r: unknown): r is AttemptResult {
  return typeof r === 'object' && r !== null && ['delivered', 'retryable', 'permanent'].includes((r as { kind?: string }).kind ?? '');
}

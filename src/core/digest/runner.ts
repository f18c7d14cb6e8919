/**
 * Runs a notifier-digest node's groups on this instance, or hands its events to the instance that does.
 *
 * Groups that only this instance uses (the file store) are run here, always. Groups shared by several instances (the
 * Redis store, `groups.shared`) are run by one instance at a time, the owner, which holds a lease on them:
 * - the owner runs the DigestEngine (timing, digests) and takes in the events the others forwarded (oldest first;
 *   each leaves the inbox in the same write that holds it, or once it was handed on when it passes through);
 * - every other instance is on standby: it forwards each event it receives (stored before `accept` resolves) and
 *   tries to take the lease every `leaseMs / 3`, and at once when the owner gives it up;
 * - an owner that loses its lease (it stalled, Redis was away and another took over) stops its engine at once; its
 *   writes are refused by the store meanwhile (NotOwnerError), and what it was holding is loaded by the new owner.
 * At least once: a crash between a hand-over and its release repeats that hand-over.
 */
import type { Clock, TimerHandle } from '../delivery/clock';
import type { NotifierEvent } from '../events';
import { NotOwnerError } from '../store/types';
import type { DigestGroups, SharedGroups } from '../store/types';
import type { DigestConfig } from './config';
import { DigestEngine, eventOf } from './engine';
import type { DigestSink, DigestStats } from './engine';

/** How often the owner looks for forwarded events it was not told about (a subscription lost meanwhile). */
export const INBOX_POLL_MS = 1000;
/** Forwarded events taken in per read. */
const INBOX_BATCH = 100;

export interface RunnerSink extends DigestSink {
  /** Sends on, unchanged, a forwarded event that passes through; resolves once the flow has it. */
  pass(event: NotifierEvent, msg?: Record<string, unknown>): Promise<void>;
  /** This instance now runs the groups (with what it loaded). */
  owner?(loaded: { groups: number; events: number; skipped: number }): void;
}

export interface RunnerStats extends DigestStats {
  /** another instance runs the groups: this one forwards what it receives */
  standby: boolean;
}

export class DigestRunner {
  private engine: DigestEngine | undefined;
  private readonly shared: SharedGroups | undefined;
  private closed = false;
  /** claims and role changes, one at a time */
  private turn: Promise<void> = Promise.resolve();
  private renewTimer: TimerHandle;
  private pollTimer: TimerHandle;
  private draining: Promise<void> | undefined;
  private drainAgain = false;
  /** events this instance forwarded to the owner */
  forwarded = 0;

  constructor(
    private readonly config: DigestConfig,
    private readonly groups: DigestGroups,
    private readonly sink: RunnerSink,
    private readonly clock: Clock,
    private readonly options: { pollMs?: number } = {},
  ) {
    this.shared = groups.shared;
  }

  /** Loads the groups (the owner) or starts on standby. Rejects when the store cannot be read. */
  async start(): Promise<void> {
    if (!this.shared) {
      await this.becomeOwner();
      return;
    }
    this.shared.onChange((what) => {
      if (what === 'forwarded') this.drainSoon();
      else void this.claim();
    });
    try {
      await this.claim(true);
    } catch (err) {
      // another instance can take the groups at once
      await this.shared.resign().catch(() => undefined);
      throw err;
    }
    this.scheduleRenew();
  }

  /** Whether this instance runs the groups now. */
  get owner(): boolean {
    return this.engine !== undefined;
  }

  private async becomeOwner(): Promise<void> {
    const e = new DigestEngine(this.config, this.groups, this.sink, this.clock);
    // shared: what was forwarded before this instance took over joins the loaded groups before any is due
    const loaded = await e.start({ paused: this.shared !== undefined });
    if (this.closed) {
      await e.close();
      return;
    }
    this.engine = e;
    this.sink.owner?.(loaded);
    if (this.shared) {
      this.drainSoon();
      await this.draining;
      e.resume();
      this.schedulePoll();
    }
    this.sink.changed?.();
  }

  private async stepDown(): Promise<void> {
    const e = this.engine;
    if (!e) return;
    this.engine = undefined;
    if (this.pollTimer !== undefined) this.clock.clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    await e.close();
    this.sink.changed?.();
  }

  /** Takes or renews the lease and changes role when it must. `strict`: a failure rejects (at start). */
  private claim(strict = false): Promise<void> {
    const shared = this.shared;
    if (!shared) return Promise.resolve();
    const next = this.turn.then(async () => {
      if (this.closed) return;
      let answer: Awaited<ReturnType<SharedGroups['claim']>>;
      try {
        answer = await shared.claim();
      } catch (err) {
        // the store is away: keep the role (the store refuses the writes of an owner that lost the lease)
        if (strict) throw err;
        return;
      }
      if (answer === 'other') await this.stepDown();
      else if (answer === 'acquired' || !this.engine) {
        // a new owner (or one whose lease another took meanwhile): what is stored is the truth
        await this.stepDown();
        try {
          await this.becomeOwner();
        } catch (err) {
          if (strict) throw err;
          // the groups could not be read (the store went away): the next renewal tries again
          this.sink.problem?.(`could not load the digest groups: ${(err as Error).message}`);
        }
      }
    });
    this.turn = next.catch(() => undefined);
    return next;
  }

  private scheduleRenew(): void {
    if (this.closed || !this.shared) return;
    this.renewTimer = this.clock.setTimeout(
      () => {
        this.renewTimer = undefined;
        void this.claim().finally(() => this.scheduleRenew());
      },
      Math.max(100, Math.floor(this.shared.leaseMs / 3)),
    );
  }

  private schedulePoll(): void {
    if (this.closed || !this.engine) return;
    this.pollTimer = this.clock.setTimeout(() => {
      this.pollTimer = undefined;
      this.drainSoon();
      this.schedulePoll();
    }, this.options.pollMs ?? INBOX_POLL_MS);
  }

  /**
   * Takes one event: `pass` (the caller sends it on now), `held` (stored in a group here, or forwarded to the owner).
   * Rejects when the store could not keep it: nothing was kept.
   */
  async accept(event: NotifierEvent, msg?: Record<string, unknown>): Promise<'held' | 'pass'> {
    if (this.closed) throw new Error('the digest node is stopping');
    if (event.type === 'digest') return 'pass';
    const e = this.engine;
    if (e) {
      try {
        return await e.accept(event, msg);
      } catch (err) {
        // the engine stopped meanwhile (another instance took the groups): the event goes to the owner
        if (!this.shared || (!(err instanceof NotOwnerError) && this.engine === e)) throw err;
        if (err instanceof NotOwnerError) void this.claim();
      }
    }
    if (!this.shared) throw new Error('the digest groups are not open');
    await this.shared.forward(event, msg);
    this.forwarded++;
    this.sink.changed?.();
    return 'held';
  }

  private drainSoon(): void {
    if (this.closed || !this.engine || !this.shared) return;
    if (this.draining) {
      this.drainAgain = true;
      return;
    }
    this.draining = this.drain().finally(() => {
      this.draining = undefined;
    });
  }

  /** The owner takes in the forwarded events, oldest first; a failure leaves the rest for the next look. */
  private async drain(): Promise<void> {
    const shared = this.shared;
    do {
      this.drainAgain = false;
      const e = this.engine;
      if (!e || !shared) return;
      let batch: Awaited<ReturnType<SharedGroups['inbox']>>;
      try {
        batch = await shared.inbox(INBOX_BATCH);
      } catch {
        return; // the store is away: the next look
      }
      for (const f of batch) {
        if (this.engine !== e) return;
        const event = f.event === undefined ? undefined : eventOf(f.event);
        try {
          if (!event) {
            this.sink.problem?.(`a forwarded event could not be read and was dropped (entry ${f.id})`);
            await shared.ack(f.id);
            continue;
          }
          if ((await e.accept(event, f.msg, f.id)) === 'pass') {
            await this.sink.pass(event, f.msg);
            await shared.ack(f.id);
          }
        } catch (err) {
          if (err instanceof NotOwnerError) void this.claim();
          else if (this.engine === e) this.sink.problem?.(`could not take in a forwarded event, trying again: ${(err as Error).message}`);
          return;
        }
      }
      if (batch.length === INBOX_BATCH) this.drainAgain = true;
      if (batch.length > 0) this.sink.changed?.();
    } while (this.drainAgain);
  }

  stats(): RunnerStats {
    if (this.engine) return { ...this.engine.stats(), standby: false };
    return { groups: 0, held: 0, standby: this.shared !== undefined && !this.closed };
  }

  /** The engine's counters (undefined on standby). */
  get counters(): DigestEngine['counters'] | undefined {
    return this.engine?.counters;
  }

  /**
   * Stops. `removed`: the owner first takes in what was forwarded and hands everything on, then removes the groups
   * when nothing is left. Otherwise what is held stays stored and ownership is given up (another instance takes it
   * at once). Resolves with the events left held here (0 on standby).
   */
  async close(removed: boolean): Promise<{ left: number }> {
    this.closed = true;
    if (this.renewTimer !== undefined) this.clock.clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    if (this.pollTimer !== undefined) this.clock.clearTimeout(this.pollTimer);
    this.pollTimer = undefined;
    await this.turn;
    await this.draining;
    const e = this.engine;
    if (e && removed) {
      if (this.shared) await this.drain();
      await e.flushAll();
    }
    if (e) await e.close();
    const left = e ? e.stats().held : 0;
    if (removed && left === 0 && (e || !this.shared)) {
      await this.groups.destroy().catch((err: Error) => {
        if (!(err instanceof NotOwnerError)) throw err;
      });
    } else {
      // another instance takes the groups at once (a no-op when this one did not own them)
      if (this.shared) await this.shared.resign().catch(() => undefined);
      await this.groups.close();
    }
    return { left };
  }
}

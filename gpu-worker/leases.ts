/**
 * The messages a worker holds, one per job (waiting, running or finishing): kept hidden by
 * a heartbeat every third of the visibility timeout, released when the effect that ends a
 * job's stay (complete, cancel, retry, hand back) settles. A heartbeat that finds its
 * message gone marks the job lost: another worker may own it now.
 */
import { type JobQueue, MessageNotInFlightError } from '../shared/ports/queue.js';
import type { Emitter } from './emitter.js';
import type { JobRun } from './job-run.js';

export interface LeaseDeps {
  queue: Pick<JobQueue, 'extendVisibility'>;
  emitter: Pick<Emitter, 'logFor' | 'retryLater'>;
  visibilityTimeoutSeconds: number;
  heartbeatMs: number;
  /** Told the number of held jobs whenever it changes (task scale-in protection). */
  onHeldChange?: (held: number) => void;
  /** Something changed that the engine's loop should look at (a job lost, a slot freed). */
  wake(): void;
}

export class Leases {
  private readonly runs = new Map<string, JobRun>();
  private readonly effects = new Set<Promise<void>>();
  private heartbeat: NodeJS.Timeout | undefined;
  private heldReported = 0;

  constructor(private readonly deps: LeaseDeps) {}

  get size(): number {
    return this.runs.size;
  }

  get(id: string): JobRun | undefined {
    return this.runs.get(id);
  }

  ids(): string[] {
    return [...this.runs.keys()];
  }

  hold(run: JobRun): void {
    this.runs.set(run.id, run);
    this.heldChanged();
  }

  /** Forgets a job without an effect (lost: its message is someone else's now). */
  drop(id: string): void {
    this.runs.delete(id);
    this.heldChanged();
  }

  /** Runs an effect that ends the job's stay; the message is no longer held once it settles. */
  track(run: JobRun, effect: Promise<void>): void {
    this.hold(run);
    const tracked: Promise<void> = effect
      .catch(async (err: unknown) => {
        this.deps.emitter.logFor(run).error({ err }, 'finishing the job failed');
        await this.deps.emitter.retryLater(run, err);
      })
      .finally(() => {
        this.effects.delete(tracked);
        if (this.runs.get(run.id) === run) this.runs.delete(run.id);
        this.heldChanged();
        this.deps.wake();
      });
    this.effects.add(tracked);
  }

  /** Resolves when every tracked effect has settled. */
  async settle(): Promise<void> {
    while (this.effects.size > 0) await Promise.allSettled([...this.effects]);
  }

  startHeartbeat(): void {
    this.heartbeat ??= setInterval(() => this.beat(), this.deps.heartbeatMs);
  }

  stopHeartbeat(): void {
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  /** Extends every held message; a lost one means another worker may own the job now. */
  private beat(): void {
    const seconds = this.deps.visibilityTimeoutSeconds;
    for (const run of this.runs.values()) {
      const handle = run.message.receiptHandle;
      this.deps.queue.extendVisibility(handle, seconds).catch((err: unknown) => {
        if (run.message.receiptHandle !== handle) return; // redelivered to us meanwhile
        if (err instanceof MessageNotInFlightError) {
          this.deps.emitter.logFor(run).warn('lost the message (visibility lapsed); dropping the job');
          run.stop = 'lost';
          this.deps.wake();
        } else {
          this.deps.emitter.logFor(run).warn({ err }, 'heartbeat failed; will retry');
        }
      });
    }
  }

  private heldChanged(): void {
    if (this.runs.size === this.heldReported) return;
    this.heldReported = this.runs.size;
    this.deps.onHeldChange?.(this.runs.size);
  }
}

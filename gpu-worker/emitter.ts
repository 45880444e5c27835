/**
 * The emit side of the loop: every effect a job has outside the worker (record writes,
 * output objects, the message's fate) and the metrics they count. The engine decides
 * when; this decides how, so that each effect is safe to repeat after a redelivery.
 */

import { encodePng } from '../shared/images/png.js';
import type { JobError } from '../shared/jobs/record.js';
import type { JobRepository } from '../shared/jobs/repository.js';
import { isTerminal } from '../shared/jobs/status.js';
import type { Logger } from '../shared/logging/index.js';
import type { JobQueue } from '../shared/ports/queue.js';
import { type ObjectStore, PreconditionFailedError } from '../shared/ports/store.js';
import type { ImageGeometry } from '../shared/runtime/index.js';
import type { JobRecord } from '../shared/schemas/job.js';
import { outputImageKey } from '../shared/schemas/job.js';
import { queueWebhookEvent, wants } from '../shared/webhooks/outbox.js';
import type { WebhookEvent } from '../shared/webhooks/schema.js';
import { allCheckpoints, finalProgress, type JobRun, progressOf } from './job-run.js';
import { countJob, type WorkerMetrics } from './metrics.js';
import { toCanceled, toFailed, toRunning, toSucceeded, withProgress } from './transitions.js';

export interface EmitterDeps {
  queue: JobQueue;
  store: ObjectStore;
  jobs: JobRepository<JobRecord>;
  metrics: WorkerMetrics;
  logger: Logger;
  /** The image size of each model (a job's PNGs are its model's size). */
  imageOf: (model: string) => ImageGeometry;
  now: () => number;
  /** How long a failed attempt's message stays hidden before its retry, by receive count. */
  retryDelaySeconds: (receiveCount: number) => number;
}

type Mutation = (current: JobRecord) => JobRecord | null;

/** A job whose webhook wants `start` or `progress` events: its writes go out in order, each event from its own. */
function ordersItsWrites(record: JobRecord): boolean {
  return wants(record, 'start') !== null || wants(record, 'progress') !== null;
}

export class Emitter {
  constructor(private readonly deps: EmitterDeps) {}

  logFor(run: Pick<JobRun, 'id' | 'requestId'> & { model?: string }): Logger {
    return this.deps.logger.child({ jobId: run.id, requestId: run.requestId, ...(run.model !== undefined ? { model: run.model } : {}) });
  }

  /**
   * Admitted: a job whose webhook wants `start` or `progress` events is marked running now, so
   * that they go out in order. Any other is marked at its first step with more to come
   * (markRunning): a job that ends in one step goes queued -> succeeded with one record write,
   * where a `running` write issued before its only denoising call would sit behind the call
   * (onnxruntime-node computes on this thread) and then race the success for the record.
   */
  admitted(run: JobRun): void {
    if (ordersItsWrites(run.record)) this.markRunning(run);
  }

  /** Queued (or running from an earlier attempt) -> running at the current step; the `start` webhook event. */
  markRunning(run: JobRun): void {
    run.markedRunning = true;
    run.lastProgressAt = this.deps.now();
    this.write(run, toRunning(progressOf(run)), (record) =>
      record.status === 'running' ? this.webhook(record, 'start') : Promise.resolve(),
    );
  }

  /**
   * A progress write, coalesced: at most one waits behind the one in flight. It carries the
   * images made so far (their PNGs first, then their checkpoints: checkpoint.ts), so the
   * record never names a PNG not yet stored and its progress agrees with its output.
   */
  progress(run: JobRun): void {
    if (run.progressPending) return;
    run.progressPending = true;
    run.lastProgressAt = this.deps.now();
    this.write(
      run,
      (current) => {
        run.progressPending = false;
        return withProgress(progressOf(run), run.checkpoints)(current);
      },
      (record) =>
        record.status === 'running' ? this.webhook(record, 'progress', record.progress.step, record.progress.image) : Promise.resolve(),
      () => this.putImages(run),
    );
  }

  /**
   * An image is made and the answer goes on: a write of its own (never coalesced away), so
   * that a client sees the image now and a redelivery resumes after it; a failed write is
   * made good by the next one or by complete().
   */
  checkpoint(run: JobRun): void {
    this.write(
      run,
      (current) => withProgress(progressOf(run), run.checkpoints)(current),
      undefined,
      () => this.putImages(run),
    );
  }

  /** Whether the cancel marker is there; a failed check counts as "not yet". */
  async cancelRequested(run: JobRun): Promise<boolean> {
    try {
      return await this.deps.jobs.isCancelRequested(run.id);
    } catch (err) {
      this.logFor(run).warn({ err }, 'cancel check failed; will check again');
      return false;
    }
  }

  /** Images (beside earlier writes), then the succeeded record, then the message: each step is idempotent. */
  async complete(run: JobRun): Promise<void> {
    const log = this.logFor(run);
    // The PNGs go beside the record writes still in flight: none of those names the last image
    // (it enters the record with the success only). The success waits for those writes: each
    // was issued at least one denoising step ago (`running` goes after the first step), so the
    // wait is short, where a success racing one would lose its conditional write and pay a
    // read and a write again; and the record's history stays in order (queued, running, the
    // steps, succeeded), as are the webhook events that go out from those writes.
    await Promise.all([run.writes, this.putImages(run)]); // run.writes never rejects (write() logs)
    const { won, record } = await this.transition(run, toSucceeded(allCheckpoints(run), finalProgress(run)));
    if (won) {
      const { metrics } = this.deps;
      countJob(metrics, 'succeeded');
      metrics.images.inc({}, run.images.size);
      metrics.jobLatency.observe({}, (this.deps.now() - run.message.sentAt) / 1000);
      log.info(
        { images: run.images.size, firstImage: run.firstImage, tokens: run.tokensUsed, receiveCount: run.message.receiveCount },
        'job succeeded',
      );
    } else {
      log.info({ status: record.status }, 'job already finished; output left as it was');
    }
    await this.completedWebhook(record);
    await this.deps.queue.delete(run.message.receiptHandle);
  }

  async cancel(run: JobRun): Promise<void> {
    await run.writes.catch(() => {});
    const { won, record } = await this.transition(run, toCanceled());
    if (won) {
      countJob(this.deps.metrics, 'canceled');
      this.deps.metrics.jobLatency.observe({}, (this.deps.now() - run.message.sentAt) / 1000);
    }
    this.logFor(run).info({ status: record.status, step: run.step }, won ? 'job canceled' : 'job already finished');
    await this.completedWebhook(record);
    await this.deps.queue.delete(run.message.receiptHandle);
  }

  /** A permanent failure of this job (its input, not the worker): fail it now, no retry. */
  async fail(run: JobRun, error: JobError): Promise<void> {
    await run.writes.catch(() => {});
    const { won, record } = await this.transition(run, toFailed(error));
    if (won) countJob(this.deps.metrics, 'failed');
    this.logFor(run).warn({ error }, won ? 'job failed' : 'job already finished');
    await this.completedWebhook(record);
    await this.deps.queue.delete(run.message.receiptHandle);
  }

  /**
   * The record is terminal already (canceled at the edge, or done elsewhere): ack, after
   * queuing its `completed` webhook event if that is not on the queue yet.
   */
  async acknowledge(run: Pick<JobRun, 'id' | 'requestId' | 'message'> & { record?: JobRecord }): Promise<void> {
    if (run.record && isTerminal(run.record.status)) await this.completedWebhook(run.record);
    else if (run.record && wants(run.record, 'completed')) {
      const current = await this.deps.jobs.get(run.id);
      if (current && isTerminal(current.status)) await this.completedWebhook(current);
    }
    await this.deps.queue.delete(run.message.receiptHandle);
  }

  /**
   * A failed attempt: the message becomes visible again after a backoff; after the
   * queue's maxReceiveCount it goes to the dead-letter queue, whose drain marks the job failed.
   */
  async retryLater(run: Pick<JobRun, 'id' | 'requestId' | 'message'>, err: unknown): Promise<void> {
    const delay = this.deps.retryDelaySeconds(run.message.receiveCount);
    this.logFor(run).error(
      { err, receiveCount: run.message.receiveCount, retryInSeconds: delay },
      'job attempt failed; leaving it for a retry',
    );
    try {
      if (delay > 0) await this.deps.queue.extendVisibility(run.message.receiptHandle, delay);
      else await this.deps.queue.release(run.message.receiptHandle);
    } catch {
      // Lost already: it will come back when its visibility lapses, which is what we want.
    }
  }

  /** Shutdown: hand the message back at once so another worker can start over. */
  async release(run: Pick<JobRun, 'message'>): Promise<void> {
    await this.deps.queue.release(run.message.receiptHandle);
  }

  /** Before the job's message goes: its terminal state's webhook event on the queue (throws: the message stays). */
  private async completedWebhook(record: JobRecord): Promise<void> {
    if (isTerminal(record.status))
      await queueWebhookEvent({ queue: this.deps.queue, store: this.deps.store, now: this.deps.now }, record, 'completed');
  }

  /** A start or progress event: best effort (a failure is logged; the job goes on). */
  private async webhook(record: JobRecord, event: WebhookEvent, step?: number, image?: number): Promise<void> {
    await queueWebhookEvent({ queue: this.deps.queue, store: this.deps.store, now: this.deps.now }, record, event, step, image).catch(
      (err: unknown) => this.deps.logger.warn({ err, jobId: record.id, event }, 'could not queue a webhook event'),
    );
  }

  /** Appends a record write to the job's chain (after `before`, whose failure skips it); a terminal record seen there stops the job. */
  private write(run: JobRun, mutate: Mutation, after?: (record: JobRecord) => Promise<void>, before?: () => Promise<void>): void {
    run.writes = run.writes
      .then(async () => {
        await before?.();
        run.version = await this.deps.jobs.updateFrom(run.id, run.version, mutate);
        const record = run.version.value;
        if (isTerminal(record.status)) run.stop ??= 'terminal';
        else if (after) await after(record);
      })
      .catch((err: unknown) => this.logFor(run).warn({ err }, 'job record write failed'));
  }

  /** update() may call the mutation again after a lost race: the last call decides. */
  private async transition(run: JobRun, mutate: Mutation): Promise<{ won: boolean; record: JobRecord }> {
    let won = false;
    run.version = await this.deps.jobs.updateFrom(run.id, run.version, (current) => {
      const next = mutate(current);
      won = next !== null;
      return next;
    });
    return { won, record: run.version.value };
  }

  /** Every image this attempt made and has not stored yet, as a PNG at its output key. */
  private async putImages(run: JobRun): Promise<void> {
    const image = this.deps.imageOf(run.model);
    const pending = [...run.images].filter(([k]) => !run.storedImages.has(k));
    await Promise.all(
      pending.map(async ([k, patches]) => {
        await this.putOnce(outputImageKey(run.id, k), encodePng(patches, image));
        run.storedImages.add(k);
      }),
    );
  }

  /** Deterministic keys and create-only writes: a redelivered job's rewrite is a no-op. */
  private async putOnce(key: string, body: Uint8Array): Promise<void> {
    try {
      await this.deps.store.put(key, body, { contentType: 'image/png', ifNoneMatch: '*' });
    } catch (err) {
      if (!(err instanceof PreconditionFailedError)) throw err;
    }
  }
}

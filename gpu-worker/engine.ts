/**
 * The worker's engine (vLLM's split): receive -> schedule -> execute -> emit.
 *
 * - receive: a loop long-polls the queue while the worker holds fewer messages than its
 *   running set plus a look-ahead (receive-loop.ts); each message is classified (intake.ts):
 *   a job joins the scheduler, a webhook event goes to the deliverer.
 * - schedule: at every tick the scheduler admits waiting jobs first come first served and
 *   returns the running set as one call per model (scheduler.ts).
 * - execute: one batched denoising step per model for its running jobs, on that model's
 *   runner (model-runner.ts; never two models in one call); a job whose image is done
 *   continues its text there, and may start another image.
 * - emit: record writes, output objects and the message's fate (emitter.ts), off the loop
 *   so that the accelerator does not wait on storage.
 *
 * Held messages and their heartbeat are leases.ts's. Model calls happen on the tick loop
 * only, one at a time.
 */

import { ImageInputError } from '../shared/images/png.js';
import type { JobRepository } from '../shared/jobs/repository.js';
import type { Logger } from '../shared/logging/index.js';
import type { JobQueue, ReceivedMessage } from '../shared/ports/queue.js';
import type { ObjectStore } from '../shared/ports/store.js';
import { streamSeed } from '../shared/runtime/seeds.js';
import type { JobRecord } from '../shared/schemas/job.js';
import type { WebhookDeliverer } from '../shared/webhooks/deliver.js';
import { makeCheckpoint } from './checkpoint.js';
import { loadContext } from './context.js';
import { Emitter } from './emitter.js';
import { classify, type Intake } from './intake.js';
import { type JobRun, newJobRun, tokensLeft } from './job-run.js';
import { Leases } from './leases.js';
import type { WorkerMetrics } from './metrics.js';
import type { ModelRunner } from './model-runner.js';
import { ReceiveWake, runReceiveLoop } from './receive-loop.js';
import { emptyScheduler, enqueue, remove, type SchedulerState, schedule } from './scheduler.js';

export interface EngineOptions {
  /** Jobs per batched denoising call. */
  maxBatch: number;
  /** Messages held beyond the running set, ready to join at the next tick (default maxBatch). */
  lookahead?: number;
  visibilityTimeoutSeconds: number;
  /** Default: a third of the visibility timeout. */
  heartbeatMs?: number;
  /** Least time between two progress writes of one job (default 250 ms). */
  progressIntervalMs?: number;
  /** Least time between two cancel-marker reads of one job (default 250 ms). */
  cancelCheckMs?: number;
  /** Images one answer may hold; a further `<boi>` ends the answer (default 4). */
  maxImages?: number;
  /** Long-poll wait of one receive (default 5 s; a shutdown cuts it short). */
  receiveWaitSeconds?: number;
  /** Backoff before a failed attempt's retry (default min(visibility, 2^(count-1)) s). */
  retryDelaySeconds?: (receiveCount: number) => number;
  now?: () => number;
  /** Sees every clean image as it is made (tests and benchmarks compare them). */
  onImage?: (jobId: string, index: number, patches: Float32Array) => void;
  /** Told the number of held jobs whenever it changes (task scale-in protection). */
  onHeldChange?: (held: number) => void;
}

export interface EngineDeps {
  queue: JobQueue;
  store: ObjectStore;
  jobs: JobRepository<JobRecord>;
  /** One runner per model served, the default model first (a record without `model` runs on it). */
  runners: readonly ModelRunner[];
  metrics: WorkerMetrics;
  logger: Logger;
  /** Delivers webhook events that arrive on the queue; without it they are handed back. */
  webhooks?: WebhookDeliverer;
}

/** Webhook deliveries one worker runs at once; more are handed back to the queue. */
const MAX_WEBHOOKS_IN_FLIGHT = 64;

export class Engine {
  private sched: SchedulerState = emptyScheduler;
  /** Every job whose message this worker holds: waiting, running or finishing. */
  private readonly leases: Leases;
  private readonly intakeAbort = new AbortController();
  private readonly emitter: Emitter;
  private readonly opts: Required<Omit<EngineOptions, 'onImage' | 'onHeldChange'>> & Pick<EngineOptions, 'onImage' | 'onHeldChange'>;
  private readonly runners: ReadonlyMap<string, ModelRunner>;
  private readonly served: { readonly names: readonly string[] };
  private readonly waiters = new Set<() => void>();
  private readonly receiveWake = new ReceiveWake();
  private draining = false;
  private abandon = false;
  private loopDone: Promise<void> | undefined;
  /** When the tick loop last went round (health). */
  lastBeatAt = 0;

  constructor(
    private readonly deps: EngineDeps,
    options: EngineOptions,
  ) {
    if (deps.runners.length === 0) throw new RangeError('an engine needs at least one model runner');
    const runners = new Map<string, ModelRunner>();
    for (const runner of deps.runners) {
      if (runners.has(runner.name)) throw new RangeError(`two runners for model ${runner.name}`);
      runners.set(runner.name, runner);
    }
    this.runners = runners;
    this.served = { names: [...runners.keys()] };
    const vt = options.visibilityTimeoutSeconds;
    this.opts = {
      lookahead: options.maxBatch,
      heartbeatMs: Math.max(100, (vt * 1000) / 3),
      progressIntervalMs: 250,
      cancelCheckMs: 250,
      maxImages: 4,
      receiveWaitSeconds: 5,
      retryDelaySeconds: (count) => Math.min(vt, 2 ** Math.max(0, count - 1)),
      now: Date.now,
      ...options,
    };
    this.emitter = new Emitter({
      queue: deps.queue,
      store: deps.store,
      jobs: deps.jobs,
      metrics: deps.metrics,
      logger: deps.logger,
      imageOf: (model) => this.runner(model).image,
      now: this.opts.now,
      retryDelaySeconds: this.opts.retryDelaySeconds,
    });
    this.leases = new Leases({
      queue: deps.queue,
      emitter: this.emitter,
      visibilityTimeoutSeconds: vt,
      heartbeatMs: this.opts.heartbeatMs,
      ...(this.opts.onHeldChange ? { onHeldChange: this.opts.onHeldChange } : {}),
      wake: () => this.wake(),
    });
  }

  get maxBatch(): number {
    return this.opts.maxBatch;
  }

  /** Jobs were queued (the embedded default's edge says so): receive now instead of at the queue's next poll. */
  jobsQueued(): void {
    this.receiveWake.wake();
  }

  /** Jobs held (waiting, running or finishing). */
  get held(): number {
    return this.leases.size;
  }

  /** Starts the loops; `done` resolves when the engine has stopped. */
  start(): void {
    if (this.loopDone) throw new Error('engine already started');
    this.lastBeatAt = this.opts.now();
    this.leases.startHeartbeat();
    const intake = runReceiveLoop({
      queue: this.deps.queue,
      logger: this.deps.logger,
      visibilityTimeoutSeconds: this.opts.visibilityTimeoutSeconds,
      waitSeconds: this.opts.receiveWaitSeconds,
      signal: this.intakeAbort.signal,
      room: () => this.opts.maxBatch + this.opts.lookahead - this.leases.size,
      idle: (ms) => this.idle(ms),
      onBatch: (messages) => this.intake(messages),
      wake: this.receiveWake,
    }).catch((err: unknown) => this.deps.logger.fatal({ err }, 'intake loop crashed'));
    this.loopDone = this.tickLoop().finally(async () => {
      await intake;
      this.leases.stopHeartbeat();
    });
  }

  /** Resolves when the engine has stopped (after `shutdown`). */
  get done(): Promise<void> {
    return this.loopDone ?? Promise.resolve();
  }

  /**
   * SIGTERM: take nothing new, hand back what has not started, let the running jobs finish
   * within `graceMs`, then hand back whatever is left. Resolves when nothing is held.
   */
  async shutdown(graceMs: number): Promise<void> {
    if (!this.draining) {
      this.draining = true;
      this.intakeAbort.abort();
      this.deps.logger.info({ held: this.leases.size, graceMs }, 'shutting down: finishing running jobs');
      for (const id of this.sched.waiting) this.handBack(id);
      this.wake();
      const timer = setTimeout(() => {
        this.abandon = true;
        this.wake();
      }, graceMs);
      await this.done;
      clearTimeout(timer);
      await this.leases.settle();
      for (const id of this.leases.ids()) this.handBack(id);
      await Promise.all([this.leases.settle(), this.deps.webhooks?.settle()]);
    }
    await this.done;
  }

  // --- receive -----------------------------------------------------------------------

  /** Classified together, enqueued together: jobs that arrive together start at the same tick. */
  private async intake(messages: ReceivedMessage[]): Promise<void> {
    const intakes = await Promise.all(messages.map(async (message) => ({ message, intake: await this.classify(message) })));
    for (const { message, intake } of intakes) this.accept(message, intake);
  }

  /** The intake's verdict, or undefined when reading the record failed (retried later). */
  private async classify(message: ReceivedMessage): Promise<Intake | undefined> {
    try {
      return await classify(message, this.deps.jobs, this.served);
    } catch (err) {
      await this.emitter.retryLater({ id: '?', requestId: '?', message }, err);
      return undefined;
    }
  }

  /** Acts on a verdict; synchronous, so a receive's jobs all join before the next tick. */
  private accept(message: ReceivedMessage, intake: Intake | undefined): void {
    const log = this.deps.logger;
    if (!intake) return;
    if (this.draining) {
      void this.deps.queue.release(message.receiptHandle).catch(() => {});
      return;
    }
    if (intake.kind === 'webhook') {
      const webhooks = this.deps.webhooks;
      if (webhooks && webhooks.busy < MAX_WEBHOOKS_IN_FLIGHT) webhooks.start(message, intake.webhook);
      else void this.deps.queue.release(message.receiptHandle).catch(() => {});
      return;
    }
    if (intake.kind === 'poison') {
      log.error(
        {
          messageId: message.messageId,
          receiveCount: message.receiveCount,
          jobId: intake.jobId,
          requestId: intake.requestId,
          reason: intake.reason,
          err: intake.err,
        },
        'poison message: left for the dead-letter queue',
      );
      void this.emitter.retryLater({ id: intake.jobId ?? '?', requestId: intake.requestId ?? '?', message }, new Error(intake.reason));
      return;
    }
    if (intake.kind === 'done') {
      log.info(
        { jobId: intake.jobId, requestId: intake.requestId, status: intake.record.status },
        'redelivered message of a finished job: deleted',
      );
      void this.emitter
        .acknowledge({ id: intake.jobId, requestId: intake.requestId, message, record: intake.record })
        .catch((err: unknown) => log.warn({ err }, 'delete failed'));
      return;
    }
    const held = this.leases.get(intake.jobId);
    if (held) {
      // Our own message again (its visibility lapsed): keep working under the new receipt.
      if (held.message.messageId === message.messageId) held.message = message;
      // A second message for a job we hold is redundant: the one we hold keeps the job alive.
      else void this.emitter.acknowledge({ id: held.id, requestId: held.requestId, message }).catch(() => {});
      return;
    }
    // A job to cancel or fail keeps the model its record names (the default for a record older than several models).
    const model = intake.kind === 'run' ? intake.model : (intake.record.model ?? this.served.names[0]!);
    const run = newJobRun(message, { value: intake.record, etag: intake.etag }, intake.requestId, model);
    if (intake.kind === 'cancel') {
      this.track(run, this.emitter.cancel(run));
      return;
    }
    if (intake.kind === 'fail') {
      this.track(run, this.emitter.fail(run, intake.error));
      return;
    }
    this.leases.hold(run);
    this.sched = enqueue(this.sched, run.id, run.model);
    this.emitter.logFor(run).info({ receiveCount: message.receiveCount }, 'job received');
    this.wake();
  }

  // --- schedule + execute ---------------------------------------------------------------

  private async tickLoop(): Promise<void> {
    for (;;) {
      this.lastBeatAt = this.opts.now();
      this.reap();
      if (this.abandon) return;
      if (this.draining && this.sched.running.length === 0 && this.sched.waiting.length === 0) return;
      const tick = schedule(this.sched, this.opts.maxBatch);
      this.sched = tick.state;
      for (const id of tick.admitted) await this.admit(this.leases.get(id)!);
      // One call per model; a job whose admission failed (no context) or that is stopping sits this one out.
      const ready = (run: JobRun) => this.sched.running.includes(run.id) && run.cond && run.x && !run.stop && !run.cancelRequested;
      const calls = tick.calls
        .map((call) => ({ model: call.model, batch: call.jobs.map((id) => this.leases.get(id)!).filter(ready) }))
        .filter((call) => call.batch.length > 0);
      this.deps.metrics.activeJobs.set(
        {},
        calls.reduce((n, call) => n + call.batch.length, 0),
      );
      if (calls.length === 0) {
        await this.idle(1000);
        continue;
      }
      for (const call of calls) await this.execute(this.runner(call.model), call.batch);
    }
  }

  private runner(model: string): ModelRunner {
    const runner = this.runners.get(model);
    if (!runner) throw new Error(`no runner for model ${model}`); // intake lets no such job in
    return runner;
  }

  /** Into the running set: prefill its context once, draw its noise (marked running now or after its first step: Emitter.admitted). */
  private async admit(run: JobRun): Promise<void> {
    const now = this.opts.now();
    run.admittedAt = now;
    this.deps.metrics.queueWait.observe({}, Math.max(0, now - run.message.sentAt) / 1000);
    const runner = this.runner(run.model);
    try {
      const segments = await loadContext(run.record.context, this.deps.store, runner.image, runner.specialTokens.boi);
      run.cond = await runner.prefill(segments);
      run.x = runner.noise(run.record.params.seed, run.image);
      run.step = 0;
      this.emitter.admitted(run);
    } catch (err) {
      this.leave(run);
      if (err instanceof ImageInputError) this.track(run, this.emitter.fail(run, { code: 'invalid_input', message: err.message }));
      else this.track(run, this.emitter.retryLater(run, err));
    }
  }

  /** One batched step of one model's jobs (the scheduler never hands a call two models). */
  private async execute(runner: ModelRunner, batch: JobRun[]): Promise<void> {
    const { metrics } = this.deps;
    const inputs = batch.map((run) => ({
      cond: run.cond!,
      x: run.x!,
      step: run.step,
      steps: run.record.params.steps,
      guidance: run.record.params.guidance,
    }));
    let outputs: Float32Array[];
    try {
      outputs = await runner.step(inputs);
    } catch (err) {
      // One bad job must not sink the batch: retry each alone, give up on those that fail.
      this.deps.logger.error({ err, model: runner.name, batch: batch.length }, 'batched denoising step failed; retrying each job alone');
      outputs = [];
      for (const [i, run] of batch.entries()) {
        try {
          outputs.push((await runner.step([inputs[i]!]))[0]!);
        } catch (alone) {
          this.leave(run);
          this.track(run, this.emitter.retryLater(run, alone));
          outputs.push(run.x!);
        }
      }
    }
    metrics.denoiseCalls.inc();
    metrics.denoiseRows.inc({}, batch.length);
    metrics.batchSize.observe({}, batch.length);
    for (const [i, run] of batch.entries()) {
      if (!this.sched.running.includes(run.id)) continue;
      run.x = outputs[i]!;
      run.step += 1;
      if (run.step === run.record.params.steps) await this.imageDone(runner, run);
      else this.afterStep(run);
    }
  }

  /**
   * The image is clean: back into the context (as stored, noise level 0, then `<eoi>`), then
   * text until the answer ends or asks for another image. An answer that goes on is
   * checkpointed (checkpoint.ts), and its next image joins the next tick's batched call.
   */
  private async imageDone(runner: ModelRunner, run: JobRun): Promise<void> {
    const { params } = run.record;
    const { eoi, boi, eos } = runner.specialTokens;
    this.opts.onImage?.(run.id, run.image, run.x!);
    const clean = runner.asStored(run.x!);
    run.images.set(run.image, clean);
    try {
      const text = await runner.continueText(run.cond!, clean, {
        maxTokens: tokensLeft(run),
        temperature: params.temperature,
        seed: streamSeed(params.seed, 'text', run.image + 1),
      });
      run.tokensUsed += text.ids.length;
      // The cap counts every image of the answer, those of an earlier attempt included.
      const another = text.stop === 'boi' && run.image + 1 < this.opts.maxImages;
      const stopId = text.stop === 'boi' ? boi : text.stop === 'eos' ? eos : undefined;
      const { width, height } = runner.image;
      const checkpoint = makeCheckpoint({
        jobId: run.id,
        index: run.image,
        width,
        height,
        eoi,
        ids: text.ids,
        text: text.text,
        tokensUsed: run.tokensUsed,
        ...(stopId !== undefined ? { stopId } : {}),
      });
      // The last image goes into the record with the success only: a running record whose
      // context did not end with the next <boi> could not be resumed.
      if (!another) run.last = checkpoint;
      else {
        run.checkpoints.push(checkpoint);
        run.cond = text.cache;
        run.image += 1;
        run.step = 0;
        run.x = runner.noise(params.seed, run.image);
        if (!run.markedRunning) this.emitter.markRunning(run); // a checkpoint is a running record's
        this.emitter.checkpoint(run);
        return;
      }
    } catch (err) {
      this.leave(run);
      this.track(run, this.emitter.retryLater(run, err));
      return;
    }
    this.leave(run);
    this.track(run, this.emitter.complete(run));
  }

  /** Between steps: the `running` write after the first, then throttled progress writes; a cancel check. None awaited. */
  private afterStep(run: JobRun): void {
    const now = this.opts.now();
    if (!run.markedRunning) this.emitter.markRunning(run);
    else if (now - run.lastProgressAt >= this.opts.progressIntervalMs) this.emitter.progress(run);
    if (!run.cancelCheckInFlight && now - run.lastCancelCheckAt >= this.opts.cancelCheckMs) {
      run.cancelCheckInFlight = true;
      run.lastCancelCheckAt = now;
      void this.emitter.cancelRequested(run).then((yes) => {
        run.cancelCheckInFlight = false;
        if (yes) {
          run.cancelRequested = true;
          this.wake();
        }
      });
    }
  }

  /** Acts on what the emit side learned since the last tick: cancels, finished elsewhere, lost. */
  private reap(): void {
    for (const id of [...this.sched.waiting, ...this.sched.running]) {
      const run = this.leases.get(id)!;
      if (run.cancelRequested) {
        this.leave(run);
        this.track(run, this.emitter.cancel(run));
      } else if (run.stop === 'terminal') {
        this.leave(run);
        this.emitter.logFor(run).info('job finished elsewhere (canceled at the edge?); dropped');
        this.track(run, this.emitter.acknowledge(run));
      } else if (run.stop === 'lost') {
        this.leave(run);
        this.leases.drop(id);
      }
    }
  }

  // --- bookkeeping --------------------------------------------------------------------

  /** Out of the scheduler (its message may still be held until its effect settles). */
  private leave(run: JobRun): void {
    this.sched = remove(this.sched, run.id);
    this.deps.metrics.activeJobs.set({}, this.sched.running.length);
  }

  private track(run: JobRun, effect: Promise<void>): void {
    this.leases.track(run, effect);
  }

  /** Shutdown: give a job's message back so another worker starts it over. */
  private handBack(id: string): void {
    const run = this.leases.get(id);
    if (!run) return;
    this.leave(run);
    this.track(run, this.emitter.release(run));
  }

  /** Ends every idle wait now (new work, a freed slot, a shutdown). */
  private wake(): void {
    for (const waiter of [...this.waiters]) waiter();
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
    });
  }
}

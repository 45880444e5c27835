/**
 * A job inside the worker: the message that holds it, the record it came with, and where
 * its generation stands (current image, step, the parts made so far). Mutable, owned by
 * the engine; the helpers here are pure.
 */
import type { ReceivedMessage } from '../shared/ports/queue.js';
import type { KvCache } from '../shared/runtime/index.js';
import type { JobRecord, StoredOutputPart } from '../shared/schemas/job.js';
import { outputImageKey } from '../shared/schemas/job.js';
import type { Progress } from './transitions.js';

/** Why a job left the worker before finishing. */
export type StopReason = 'canceled' | 'terminal' | 'lost' | 'shutdown';

export interface JobRun {
  readonly id: string;
  readonly requestId: string;
  /** The model it runs on (a runner of this worker). */
  readonly model: string;
  /** The latest delivery of its message (heartbeats and the final delete use it). */
  message: ReceivedMessage;
  readonly record: JobRecord;
  /** When it entered the running set (ms). */
  admittedAt?: number;
  /** Context ending in `<boi>` of the image being made. */
  cond?: KvCache;
  x?: Float32Array;
  /** Step of the current image (0..steps). */
  step: number;
  /** Index of the current image within this job's output images. */
  image: number;
  /** Index of its first image (images the record already had come before). */
  readonly firstImage: number;
  /** Clean images made so far, in order. */
  readonly images: Float32Array[];
  /** Parts to append to the record's output. */
  readonly parts: StoredOutputPart[];
  tokensUsed: number;
  stop?: StopReason;
  /** The cancel marker was seen (acted on at the next tick). */
  cancelRequested: boolean;
  lastProgressAt: number;
  lastCancelCheckAt: number;
  cancelCheckInFlight: boolean;
  /** Serialises this job's record writes, so they land in order. */
  writes: Promise<unknown>;
  progressPending: boolean;
}

export function newJobRun(message: ReceivedMessage, record: JobRecord, requestId: string, model: string): JobRun {
  const firstImage = record.output.filter((p) => p.type === 'image').length;
  return {
    id: record.id,
    requestId,
    model,
    message,
    record,
    step: 0,
    image: firstImage,
    firstImage,
    images: [],
    parts: [],
    tokensUsed: record.tokens_used,
    cancelRequested: false,
    lastProgressAt: 0,
    lastCancelCheckAt: 0,
    cancelCheckInFlight: false,
    writes: Promise.resolve(),
    progressPending: false,
  };
}

/** Steps over every image begun so far: grows by `steps` when another image starts. */
export function progressOf(run: JobRun): Progress {
  const steps = run.record.params.steps;
  const begun = run.image - run.firstImage + 1;
  return { step: (begun - 1) * steps + run.step, steps: begun * steps };
}

/** The output part of image k of a job (its PNG lives at outputImageKey). */
export function imagePart(jobId: string, k: number, width: number, height: number): StoredOutputPart {
  return { type: 'image', key: outputImageKey(jobId, k), width, height, mime_type: 'image/png' };
}

/** The text budget left: max_tokens counts every text token of the answer, edge's included. */
export function tokensLeft(run: JobRun): number {
  return Math.max(0, run.record.params.max_tokens - run.tokensUsed);
}

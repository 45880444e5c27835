/**
 * A job inside the worker: the message that holds it, the record it came with, and where
 * its generation stands (current image, step, the parts made so far). Mutable, owned by
 * the engine; the helpers here are pure.
 */
import type { ReceivedMessage } from '../shared/ports/queue.js';
import type { KvCache } from '../shared/runtime/index.js';
import type { JobRecord } from '../shared/schemas/job.js';
import type { VersionedJson } from '../shared/store/json-object.js';
import { type Checkpoint, imagesIn } from './checkpoint.js';
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
  /** The record as this attempt last read or wrote it, with its etag: where its next write starts (JobRepository.updateFrom). */
  version: VersionedJson<JobRecord>;
  /** When it entered the running set (ms). */
  admittedAt?: number;
  /** Context ending in `<boi>` of the image being made. */
  cond?: KvCache;
  x?: Float32Array;
  /** Step of the current image (0..steps). */
  step: number;
  /** Index of the current image within this job's output images. */
  image: number;
  /** Index of its first image (images the record already had, from an earlier attempt's checkpoints, come before). */
  readonly firstImage: number;
  /**
   * What each image this attempt made and the answer went on after adds to the record, in
   * order (written as it is made, and again at the end if need be). Every one ends its
   * context with the next `<boi>`, so a running record can always be resumed.
   */
  readonly checkpoints: Checkpoint[];
  /** The answer's last image and the text after it: written only with the success. */
  last?: Checkpoint;
  /** Each image this attempt made (as stored: 8-bit pixels), by its index in the answer. */
  readonly images: Map<number, Float32Array>;
  /** Indices of those images whose PNG is in the store. */
  readonly storedImages: Set<number>;
  tokensUsed: number;
  stop?: StopReason;
  /** The cancel marker was seen (acted on at the next tick). */
  cancelRequested: boolean;
  /** This attempt's `running` write is issued (Emitter.markRunning). */
  markedRunning: boolean;
  lastProgressAt: number;
  lastCancelCheckAt: number;
  cancelCheckInFlight: boolean;
  /** Serialises this job's record writes, so they land in order. */
  writes: Promise<unknown>;
  progressPending: boolean;
}

export function newJobRun(message: ReceivedMessage, version: VersionedJson<JobRecord>, requestId: string, model: string): JobRun {
  const record = version.value;
  // An earlier attempt's checkpoints are kept: resume after the last image the record holds.
  const firstImage = imagesIn(record);
  return {
    id: record.id,
    requestId,
    model,
    message,
    record,
    version,
    step: 0,
    image: firstImage,
    firstImage,
    checkpoints: [],
    images: new Map(),
    storedImages: new Set(),
    tokensUsed: record.tokens_used,
    cancelRequested: false,
    markedRunning: false,
    lastProgressAt: 0,
    lastCancelCheckAt: 0,
    cancelCheckInFlight: false,
    writes: Promise.resolve(),
    progressPending: false,
  };
}

/** Step `step` of the image being made, and how many of the answer's images are done (checkpointed). */
export function progressOf(run: JobRun): Progress {
  return { step: run.step, steps: run.record.params.steps, image: run.image, images_so_far: run.firstImage + run.checkpoints.length };
}

/** Every checkpoint of the finished answer, its last image's included. */
export function allCheckpoints(run: JobRun): Checkpoint[] {
  return run.last ? [...run.checkpoints, run.last] : [...run.checkpoints];
}

/** The answer is done: its last image is made. */
export function finalProgress(run: JobRun): Progress {
  const steps = run.record.params.steps;
  return { step: steps, steps, image: run.image, images_so_far: run.image + 1 };
}

/** The text budget left: max_tokens counts every text token of the answer, edge's included. */
export function tokensLeft(run: JobRun): number {
  return Math.max(0, run.record.params.max_tokens - run.tokensUsed);
}

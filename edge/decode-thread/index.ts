/**
 * The edge's text decode on a worker thread, so that the event loop only parses, validates,
 * writes records and answers: a status poll or a health check never waits behind a decode.
 * One thread (its own onnxruntime session per model) serves decodes in order. A thread that dies
 * fails the decodes it held (the requests get a 5xx, nothing half-written: the record is
 * created after the decode) and the next decode starts a new one.
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../shared/logging/index.js';
import type { Precision, Segment, TextDecodeOptions } from '../../shared/runtime/index.js';
import type { DecodedText, TextDecodeFn } from '../text-decode.js';
import { FromThread, type ThreadConfig, type ToThread } from './protocol.js';

/** How long close() waits for the decode in progress before it ends the thread regardless. */
const CLOSE_TIMEOUT_MS = 30_000;

export interface DecodeThreadOptions {
  /** The model packages it decodes with (one session each), the default first. */
  modelDirs: readonly string[];
  /** The graph to run; default: what createRuntime picks for the CPU (MODEL_PRECISION, the package). */
  precision?: Precision;
  /**
   * Threads of its onnxruntime session (default 1: a one-token decode step is too small to
   * split, and one thread leaves the other cores to the event loop and the workers).
   */
  intraOpThreads?: number;
  logger: Logger;
  /** Told each time a thread has loaded its models (no error) or could not (readiness records it). */
  onLoad?: (error?: Error) => void;
}

export interface DecodeThread {
  /** A TextDecodeFn for the app, on the thread's own session. */
  readonly decode: TextDecodeFn;
  /** Stops the thread once the decode in progress ends; decodes still waiting fail at once. */
  close(): Promise<void>;
}

export class DecodeThreadError extends Error {
  override readonly name = 'DecodeThreadError';
}

interface Pending {
  resolve(result: DecodedText): void;
  reject(err: Error): void;
}

interface Running {
  worker: Worker;
  ready: Promise<void>;
}

export async function startDecodeThread(options: DecodeThreadOptions): Promise<DecodeThread> {
  const config: ThreadConfig = {
    modelDirs: [...options.modelDirs],
    ...(options.precision !== undefined ? { precision: options.precision } : {}),
    intraOpThreads: options.intraOpThreads ?? 1,
  };
  const pending = new Map<number, Pending>();
  let nextId = 1;
  let current: Running | undefined;
  let closed = false;

  const failAll = (err: Error): void => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };

  const spawn = (): Running => {
    const worker = new Worker(new URL('./boot.mjs', import.meta.url), { workerData: config });
    let settle: { resolve(): void; reject(err: Error): void } | undefined;
    const ready = new Promise<void>((resolve, reject) => (settle = { resolve, reject }));
    ready.catch(() => {}); // awaited by whoever decodes next; never unhandled
    const running: Running = { worker, ready };
    const onMessage = (raw: unknown): void => {
      const parsed = FromThread.safeParse(raw);
      if (parsed.success) handle(parsed.data);
      else options.logger.error({ message: raw }, 'decode thread sent an unknown message');
    };
    const handle = (m: FromThread): void => {
      if (m.type === 'ready') {
        options.onLoad?.();
        settle?.resolve();
        return;
      }
      if (m.type === 'failed-to-start') {
        const err = new DecodeThreadError(`the decode thread could not load the model: ${m.message}`);
        options.onLoad?.(err);
        settle?.reject(err);
        return;
      }
      const p = pending.get(m.id);
      if (!p) return;
      pending.delete(m.id);
      if (m.type === 'decoded') p.resolve(m.result);
      else p.reject(Object.assign(new Error(m.message), { name: m.name }));
    };
    worker.on('message', onMessage);
    worker.on('error', (err) => options.logger.error({ err }, 'decode thread failed'));
    worker.once('exit', (code) => {
      if (current === running) current = undefined;
      const err = new DecodeThreadError(`the decode thread exited (code ${code})`);
      settle?.reject(err);
      if (!closed) {
        options.logger.warn({ code, pending: pending.size }, 'decode thread exited; the next decode starts a new one');
        failAll(err);
      }
    });
    return running;
  };

  const running = (): Running => (current ??= spawn());

  /** Asks the thread to finish and exit; ends it regardless after CLOSE_TIMEOUT_MS. */
  const stop = async (thread: Running): Promise<void> => {
    const exited = new Promise<void>((resolve) => thread.worker.once('exit', () => resolve()));
    const close: ToThread = { type: 'close' };
    thread.worker.postMessage(close);
    const timer = setTimeout(() => void thread.worker.terminate(), CLOSE_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  const first = running();
  try {
    await first.ready;
  } catch (err) {
    await first.worker.terminate();
    throw err;
  }

  const decode = (model: string, segments: readonly Segment[], opts: TextDecodeOptions): Promise<DecodedText> => {
    if (closed) return Promise.reject(new DecodeThreadError('the decode thread is closed'));
    const thread = running();
    const id = nextId++;
    const request: ToThread = {
      type: 'decode',
      id,
      model,
      segments,
      options: { maxTokens: opts.maxTokens, temperature: opts.temperature, seed: opts.seed },
    };
    // Pending from the start, so that close() or the thread's death fails it even before it is sent.
    const answer = new Promise<DecodedText>((resolve, reject) => pending.set(id, { resolve, reject }));
    thread.ready.then(
      () => {
        if (pending.has(id)) thread.worker.postMessage(request);
      },
      (err: Error) => {
        pending.get(id)?.reject(err);
        pending.delete(id);
      },
    );
    return answer;
  };

  return {
    decode,
    async close() {
      if (closed) return;
      closed = true;
      failAll(new DecodeThreadError('the decode thread is closed'));
      if (current) await stop(current);
      current = undefined;
    },
  };
}

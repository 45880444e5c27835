/**
 * Real dependencies from configuration: the store and queue (shared/adapters.ts, as the
 * worker opens them) and the text side (a decode thread, or a CPU
 * runtime on the event loop). Shared by the Node server, the Lambda handler and the
 * embedded start script.
 */
import { openAdapters } from '../shared/adapters.js';
import type { Config } from '../shared/config/index.js';
import { createLogger, type Logger } from '../shared/logging/index.js';
import { createRuntime, loadModelInfo, type ModelInfo } from '../shared/runtime/index.js';
import type { AppDeps } from './app.js';
import { startDecodeThread } from './decode-thread/index.js';
import { eventLoopDecoder, type TextDecodeFn } from './text-decode.js';

export { jobRepository } from '../shared/adapters.js';

export interface BuiltDeps extends AppDeps {
  config: Config;
  /** Releases the text side (thread or session), the queue and the store. */
  close(): Promise<void>;
}

export interface BuildDepsOptions {
  logger?: Logger;
  /** Threads of the text-side ONNX session (default: 1 on the decode thread, onnxruntime's choice on the event loop). */
  intraOpThreads?: number;
  /**
   * Where the text decode runs. 'thread' (default): a worker thread, so the event loop keeps
   * answering during decodes. 'event-loop': in this thread, for Lambda, where an instance
   * serves one request at a time and a thread would only add a second model in memory.
   */
  decodeOn?: 'thread' | 'event-loop';
}

export async function buildDeps(config: Config, options: BuildDepsOptions = {}): Promise<BuiltDeps> {
  const logger = options.logger ?? createLogger(config, { name: 'edge' });
  for (const warning of config.warnings) logger.warn(warning);
  const decodeOn = options.decodeOn ?? 'thread';
  const text = decodeOn === 'thread' ? await threadText(config, options, logger) : await eventLoopText(config, options);
  const adapters = openAdapters(config);
  const { store, queue, jobs } = adapters;
  logger.info({ model: text.model.manifest.name, model_dir: config.modelDir, store: config.store, queue: config.queue, decode_on: decodeOn }, 'edge dependencies ready');
  return {
    model: text.model,
    textDecoder: text.decode,
    store,
    queue,
    jobs,
    logger,
    config,
    async close() {
      await Promise.allSettled([text.close(), adapters.close()]);
    },
  };
}

interface TextSide {
  model: ModelInfo;
  decode: TextDecodeFn;
  close(): Promise<void>;
}

/** The decode thread holds the only session; this thread reads the manifest and tokenizer. */
async function threadText(config: Config, options: BuildDepsOptions, logger: Logger): Promise<TextSide> {
  const model = await loadModelInfo(config.modelDir);
  const thread = await startDecodeThread({
    modelDir: config.modelDir,
    ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
    logger,
  });
  return { model, decode: thread.decode, close: () => thread.close() };
}

/** A CPU session on this thread, whatever EXECUTION_PROVIDER says (that is the worker's). */
async function eventLoopText(config: Config, options: BuildDepsOptions): Promise<TextSide> {
  const runtime = await createRuntime(config.modelDir, {
    executionProvider: 'cpu',
    ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
  });
  return { model: runtime, decode: eventLoopDecoder(runtime), close: () => runtime.close() };
}

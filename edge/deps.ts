/**
 * Real dependencies from configuration: the store and queue (shared/adapters.ts, as the
 * worker opens them) and the text side (a decode thread, or a CPU
 * runtime on the event loop). Shared by the Node server, the Lambda handler and the
 * embedded start script.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAdapters } from '../shared/adapters.js';
import type { Config } from '../shared/config/index.js';
import { createLogger, type Logger } from '../shared/logging/index.js';
import { loadModelRegistry, type ModelRegistry, RuntimeSet } from '../shared/models/index.js';
import type { ObjectStore } from '../shared/ports/store.js';
import type { AppDeps } from './app.js';
import { LocalUrlSigner } from './auth/signed-urls.js';
import { startBodyThread } from './body/index.js';
import { startDecodeThread } from './decode-thread/index.js';
import type { RateLimiter } from './rate-limit/limiter.js';
import { MemoryRateLimiter } from './rate-limit/memory.js';
import { StoreRateLimiter } from './rate-limit/store.js';
import { ModelLoads } from './readiness/model-loads.js';
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
  const models = await loadModelRegistry(config.modelDirs, { from: config.modelsFrom });
  const loads = new ModelLoads();
  const text = decodeOn === 'thread' ? await threadText(models, options, logger, loads) : eventLoopText(models, options, loads);
  const adapters = openAdapters(config);
  const { store, queue, jobs } = adapters;
  logger.info(
    {
      models: models.models.map((m) => ({ name: m.name, dir: m.dir, default: m.isDefault })),
      store: config.store,
      queue: config.queue,
      decode_on: decodeOn,
    },
    'edge dependencies ready',
  );
  const rateLimiter = buildRateLimiter(config, store);
  // Beside the decode thread: large bodies parsed off the event loop (Lambda serves one request at a time).
  const bodyParser = decodeOn === 'thread' ? startBodyThread({ logger }) : undefined;
  return {
    models,
    textDecoder: text.decode,
    store,
    queue,
    jobs,
    logger,
    config,
    readiness: [loads.check()],
    ...(bodyParser ? { bodyParser } : {}),
    // Only the local store's URLs are signed here (S3 presigns its own; Lambda's disk is read-only).
    ...(config.store === 'file'
      ? { urlSigner: new LocalUrlSigner({ secret: urlSigningSecret(config), expiresSeconds: config.presignExpiresSeconds }) }
      : {}),
    ...(rateLimiter ? { rateLimiter } : {}),
    async close() {
      await Promise.allSettled([text.close(), adapters.close(), bodyParser?.close()]);
    },
  };
}

interface TextSide {
  decode: TextDecodeFn;
  close(): Promise<void>;
}

/** The decode thread holds the sessions (one per model); this thread has the registry's manifests and tokenizers. */
async function threadText(models: ModelRegistry, options: BuildDepsOptions, logger: Logger, loads: ModelLoads): Promise<TextSide> {
  const thread = await startDecodeThread({
    modelDirs: models.models.map((m) => m.dir),
    onLoad: (err) => (err ? loads.failedToLoad('the decode thread', err) : loads.loaded('the decode thread')),
    ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
    logger,
  });
  return { decode: thread.decode, close: () => thread.close() };
}

/**
 * CPU sessions on this thread, whatever EXECUTION_PROVIDER says (that is the worker's). Each
 * opens when a request first asks for its model: under Lambda a cold start then pays for
 * that model only (the registry has already checked every package's files).
 */
function eventLoopText(models: ModelRegistry, options: BuildDepsOptions, loads: ModelLoads): TextSide {
  const runtimes = new RuntimeSet(models, {
    executionProvider: 'cpu',
    ...(options.intraOpThreads !== undefined ? { intraOpThreads: options.intraOpThreads } : {}),
  });
  return { decode: eventLoopDecoder(loads.track((name) => runtimes.get(name))), close: () => runtimes.close() };
}

/**
 * The per-tenant limiter: in memory for the local store (one edge process), on the store for
 * S3, where every Lambda instance must count against the same limit.
 */
export function buildRateLimiter(config: Pick<Config, 'rateLimitPerMinute' | 'store'>, store: ObjectStore): RateLimiter | undefined {
  if (config.rateLimitPerMinute === undefined) return undefined;
  return config.store === 's3' ? new StoreRateLimiter(store) : new MemoryRateLimiter();
}

/**
 * URL_SIGNING_SECRET, else a random key made once and kept at DATA_DIR/url-signing.key
 * (mode 0600), so that file URLs outlive a restart. Only the local store's URLs use it.
 */
export function urlSigningSecret(config: Pick<Config, 'urlSigningSecret' | 'dataDir'>): string | Uint8Array {
  if (config.urlSigningSecret) return config.urlSigningSecret;
  const path = join(config.dataDir, 'url-signing.key');
  try {
    return readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  mkdirSync(config.dataDir, { recursive: true });
  try {
    writeFileSync(path, randomBytes(32), { mode: 0o600, flag: 'wx' });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err; // another process made it first
  }
  return readFileSync(path);
}

/**
 * The server the official client's tests talk to: the edge on loopback and a worker process
 * over one temporary data folder (the tiny model), started before the file's tests and stopped
 * after them, with a client pointed at it.
 */
import OpenAI from 'openai';
import { afterAll, beforeAll } from 'vitest';
import { type Edge, startEdge, startWorkerProcess, stopProcess, tempDataDir, type WorkerProcess } from '../e2e/system.js';

export interface OpenAiServer {
  readonly edge: Edge;
  readonly client: OpenAI;
}

export function openAiServer(): OpenAiServer {
  const data = tempDataDir();
  let edge: Edge | undefined;
  let worker: WorkerProcess | undefined;
  let client: OpenAI | undefined;
  beforeAll(async () => {
    [edge, worker] = await Promise.all([startEdge(data.dir), startWorkerProcess(data.dir)]);
    // The server has no API_KEYS; the client insists on some key.
    client = new OpenAI({ baseURL: `${edge.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 60_000 });
  });
  afterAll(async () => {
    await Promise.allSettled([edge?.close(), worker && stopProcess(worker)]);
    data.remove();
  });
  return {
    get edge() {
      if (!edge) throw new Error('the server starts in beforeAll');
      return edge;
    },
    get client() {
      if (!client) throw new Error('the server starts in beforeAll');
      return client;
    },
  };
}

/**
 * One worker thread running ./thread.ts and the requests it holds: started at once (it loads
 * in seconds: not on a client's time) and again when a request comes after it died (the
 * requests it held fail: a 500, nothing half-done, as no work had started on them).
 */
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../shared/logging/index.js';
import type { ThreadName } from './priority.js';
import { FromThread, type ToThread } from './protocol.js';

export class BodyThreadError extends Error {
  override readonly name = 'BodyThreadError';
}

/** What may be sent: a request without its id. */
export type Outgoing = ToThread extends infer T ? (T extends { id: number } ? Omit<T, 'id'> : never) : never;

export interface Channel {
  send(request: Outgoing, transfer?: ArrayBuffer[]): Promise<FromThread>;
  close(): Promise<void>;
}

interface Pending {
  resolve(reply: FromThread): void;
  reject(err: Error): void;
}

export function openChannel(options: { logger: Logger; name: ThreadName }): Channel {
  const pending = new Map<number, Pending>();
  let worker: Worker | undefined;
  let nextId = 1;
  let closed = false;

  const spawn = (): Worker => {
    const w = new Worker(new URL('./boot.mjs', import.meta.url), { name: options.name, workerData: { name: options.name } });
    w.unref(); // an idle thread keeps no process alive
    w.on('message', (raw: unknown) => {
      const m = FromThread.safeParse(raw);
      if (!m.success) return options.logger.error({ message: raw, thread: options.name }, 'body thread sent an unknown message');
      const p = pending.get(m.data.id);
      if (!p) return;
      pending.delete(m.data.id);
      if (m.data.type === 'error') p.reject(new BodyThreadError(m.data.message));
      else p.resolve(m.data);
    });
    w.on('error', (err) => options.logger.error({ err, thread: options.name }, 'body thread failed'));
    w.once('exit', (code) => {
      if (worker === w) worker = undefined;
      const err = new BodyThreadError(`the ${options.name} thread exited (code ${code})`);
      for (const p of pending.values()) p.reject(err);
      pending.clear();
      if (!closed) options.logger.warn({ code, thread: options.name }, 'body thread exited; the next request starts a new one');
    });
    return w;
  };

  worker = spawn();
  return {
    send(request, transfer = []) {
      if (closed) return Promise.reject(new BodyThreadError('the body parser is closed'));
      const id = nextId++;
      const answer = new Promise<FromThread>((resolve, reject) => pending.set(id, { resolve, reject }));
      worker ??= spawn();
      worker.postMessage({ ...request, id }, transfer);
      return answer;
    },
    async close() {
      closed = true;
      const w = worker;
      worker = undefined;
      if (w) await w.terminate();
    },
  };
}

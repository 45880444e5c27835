/**
 * The decode thread: its own onnxruntime session per model on the CPU, decoding the text
 * side of one request at a time for the edge. onnxruntime-node's `run` computes on the
 * calling thread, so on the event loop it would stall every other request (status polls,
 * health checks, other requests' parsing) for the whole decode; here it stalls nothing.
 *
 * Every model's session opens at start, not on first use: the packages are small (at most
 * 30 MB, one thread each), a graph that does not load stops the server at start instead of
 * failing a user's request later, and no first request of a model waits for a session.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadModelRegistry, RuntimeSet } from '../../shared/models/index.js';
import { nameThisThread } from '../body/priority.js';
import { decodeText } from '../text-decode.js';
import { type FromThread, ThreadConfig, ToThread } from './protocol.js';

const port = parentPort;
if (!port) throw new Error('edge/decode-thread/thread.ts runs as a worker thread (see ./index.ts)');
const post = (m: FromThread): void => port.postMessage(m);
// Every request waits for its decode: the body thread's sweep leaves this thread's priority alone.
nameThisThread('edge-decode');

try {
  const config = ThreadConfig.parse(workerData);
  const registry = await loadModelRegistry(config.modelDirs);
  const runtimes = new RuntimeSet(registry, {
    executionProvider: 'cpu',
    ...(config.precision !== undefined ? { precision: config.precision } : {}),
    ...(config.intraOpThreads !== undefined ? { intraOpThreads: config.intraOpThreads } : {}),
  });
  await runtimes.openAll();
  // One decode at a time: the session is compute-bound, interleaving only delays every answer.
  let chain: Promise<void> = Promise.resolve();
  let closing = false;
  port.on('message', (raw: unknown) => {
    const parsed = ToThread.safeParse(raw);
    if (!parsed.success) return; // not ours; the main side never sends anything else
    const m = parsed.data;
    if (m.type === 'close') {
      // Ending the thread mid-run would take the process down with it (onnxruntime-node
      // cannot unwind a native call in a terminated thread): finish, release, then exit.
      closing = true;
      chain = chain.then(async () => {
        await runtimes.close();
        port.close();
      });
      return;
    }
    chain = chain.then(async () => {
      if (closing) return; // its caller was already told the thread is closed
      try {
        post({ type: 'decoded', id: m.id, result: await decodeText(await runtimes.get(m.model), m.segments, m.options) });
      } catch (err) {
        const e = err instanceof Error ? err : new Error(String(err));
        post({ type: 'error', id: m.id, name: e.name, message: e.message });
      }
    });
  });
  post({ type: 'ready' });
} catch (err) {
  post({ type: 'failed-to-start', message: err instanceof Error ? err.message : String(err) });
}

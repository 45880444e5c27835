/**
 * A stand-in for gpu-worker/main.ts that the pool tests start instead of a real worker: it
 * speaks the same IPC (worker-ready) after STAND_IN_READY_MS ("never": it never does), or
 * exits with STAND_IN_EXIT_CODE instead, and then idles until SIGTERM or its parent goes.
 * No model, so a test can start and kill it many times in a few seconds. With
 * STAND_IN_WRITE_JOB=<id> (and STAND_IN_STORE_DIR) it then writes that job's record through
 * the worker's TellingStore, as a pool worker does, which tells the parent. With
 * STAND_IN_ECHO_QUEUED=<id>, each `jobs-queued` from the parent is answered with a
 * `job-changed` for that id: the test's proof that the telling reached a ready worker.
 */
import { isParentMessage, tell } from '../../gpu-worker/ipc.js';
import { TellingStore } from '../../gpu-worker/telling-store.js';
import { FileStore } from '../../shared/store/file-store.js';

const readyMs = process.env['STAND_IN_READY_MS'] ?? '200';
const exitCode = process.env['STAND_IN_EXIT_CODE'];

const keepAlive = setInterval(() => {}, 60_000);
const stop = (): void => {
  clearInterval(keepAlive);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);
const echo = process.env['STAND_IN_ECHO_QUEUED'];
process.on('message', (message: unknown) => {
  if (echo && isParentMessage(message)) tell({ type: 'job-changed', jobId: echo });
});

if (readyMs !== 'never') {
  setTimeout(() => {
    if (exitCode !== undefined) process.exit(Number(exitCode));
    tell({ type: 'worker-ready', healthPort: 0, maxBatch: 1, pid: process.pid });
    const jobId = process.env['STAND_IN_WRITE_JOB'];
    const root = process.env['STAND_IN_STORE_DIR'];
    if (jobId && root) {
      const store = new TellingStore(new FileStore({ root }), (id) => tell({ type: 'job-changed', jobId: id }));
      void store.put(`jobs/${jobId}.json`, new TextEncoder().encode('{}'), { contentType: 'application/json' });
    }
  }, Number(readyMs));
}

/**
 * A stand-in for gpu-worker/main.ts that the pool tests start instead of a real worker: it
 * speaks the same IPC (worker-ready) after STAND_IN_READY_MS ("never": it never does), or
 * exits with STAND_IN_EXIT_CODE instead, and then idles until SIGTERM or its parent goes.
 * No model, so a test can start and kill it many times in a few seconds.
 */
import { tell } from '../../gpu-worker/ipc.js';

const readyMs = process.env['STAND_IN_READY_MS'] ?? '200';
const exitCode = process.env['STAND_IN_EXIT_CODE'];

const keepAlive = setInterval(() => {}, 60_000);
const stop = (): void => {
  clearInterval(keepAlive);
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('disconnect', stop);

if (readyMs !== 'never') {
  setTimeout(() => {
    if (exitCode !== undefined) process.exit(Number(exitCode));
    tell({ type: 'worker-ready', healthPort: 0, maxBatch: 1, pid: process.pid });
  }, Number(readyMs));
}

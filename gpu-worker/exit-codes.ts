/**
 * Exit codes of the worker process that its supervisors act on (gpu-worker/pool.ts under
 * `npm start`; on ECS the deployment circuit breaker counts the failed tasks).
 */

/**
 * The worker cannot run as configured (a bad variable, no usable CUDA execution provider):
 * starting it again would fail the same way, so the pool does not restart it.
 */
export const EXIT_CONFIG = 2;

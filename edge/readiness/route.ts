/**
 * GET /readyz: readiness, beside /healthz's liveness. 200 when every check passes, 503 with
 * the checks that failed; a load balancer or an operator stops sending work on 503 but
 * does not restart the process for it (that is what a failing /healthz is for).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi';
import type { JobQueue } from '../../shared/ports/queue.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import { evaluateReadiness, queueCheck, type ReadinessCheck, ReadinessReport, storeCheck } from '../../shared/readiness/index.js';
import type { EdgeEnv } from '../env.js';

const report = (description: string) => ({ content: { 'application/json': { schema: ReadinessReport } }, description });

export const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  tags: ['operations'],
  summary: 'Readiness',
  description:
    'Whether the service can take work now: the store and the queue answer, the models loaded, and (in the embedded default, ' +
    '`npm start`) a worker takes jobs. `/healthz` only says that the process answers.',
  responses: {
    200: report('Ready: every check passed (a check may carry a note, such as one worker of two stopped).'),
    503: report('Not ready: `missing` names each failed check and why.'),
  },
});

export function registerReadiness(app: OpenAPIHono<EdgeEnv>, checks: readonly ReadinessCheck[]): void {
  app.openapi(readyRoute, async (c) => {
    const result = await evaluateReadiness(checks);
    c.header('cache-control', 'no-store');
    return result.status === 'ready' ? c.json(result, 200) : c.json(result, 503);
  });
}

/** What /readyz checks for these dependencies: the store and queue always, then the extra checks. */
export function readinessChecks(deps: { store: ObjectStore; queue: JobQueue; readiness?: readonly ReadinessCheck[] }): ReadinessCheck[] {
  return [storeCheck(deps.store), queueCheck(deps.queue), ...(deps.readiness ?? [])];
}

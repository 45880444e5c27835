/**
 * Outermost middleware: gives each request an id (the caller's X-Request-Id when it is
 * sane, else a new one), returns it in X-Request-Id, binds it to a child logger, and after
 * the response logs one line and counts it under the matched route pattern (not the raw
 * path, which would make one series per generation id).
 */
import { randomUUID } from 'node:crypto';
import type { Context, MiddlewareHandler } from 'hono';
import { matchedRoutes } from 'hono/route';
import type { Logger } from '../../shared/logging/index.js';
import type { EdgeEnv } from '../env.js';
import type { EdgeMetrics } from '../metrics.js';

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

export function requestContext(logger: Logger, metrics: EdgeMetrics): MiddlewareHandler<EdgeEnv> {
  return async (c, next) => {
    const started = performance.now();
    const incoming = c.req.header('x-request-id');
    const requestId = incoming && SANE_REQUEST_ID.test(incoming) ? incoming : `req_${randomUUID()}`;
    const log = logger.child({ request_id: requestId });
    c.set('requestId', requestId);
    c.set('log', log);
    c.header('X-Request-Id', requestId);
    await next();
    if (!c.res.headers.has('X-Request-Id')) {
      // Responses built outside c.json/c.body (e.g. by a library) miss the prepared header.
      c.res = new Response(c.res.body, c.res);
      c.res.headers.set('X-Request-Id', requestId);
    }
    const seconds = (performance.now() - started) / 1000;
    const route = routeOf(c);
    const status = c.res.status;
    metrics.httpRequests.inc({ method: c.req.method, route, status });
    metrics.httpDuration.observe({ method: c.req.method, route }, seconds);
    const line = { method: c.req.method, route, path: c.req.path, status, duration_ms: Math.round(seconds * 1e4) / 10 };
    if (status >= 500) log.error(line, 'request');
    else log.info(line, 'request');
  };
}

/** The pattern of the handler that matched (middleware patterns are 'ALL'), or 'unmatched'. */
function routeOf(c: Context): string {
  const routes = matchedRoutes(c).filter((r) => r.method !== 'ALL');
  return routes[routes.length - 1]?.path ?? 'unmatched';
}

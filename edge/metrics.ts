/** The edge's metrics, on its own registry (one per app, so tests do not share counters), with Node's defaults. */
import { Counter, Histogram, newRegistry, type Registry } from '../shared/metrics/index.js';

export interface EdgeMetrics {
  registry: Registry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  generationsCreated: Counter<'kind'>;
}

export function createEdgeMetrics(): EdgeMetrics {
  const registry = newRegistry({ defaults: true });
  return {
    registry,
    httpRequests: new Counter({
      name: 'http_requests_total',
      help: 'HTTP requests answered, by route pattern and status.',
      labelNames: ['method', 'route', 'status'],
      registers: [registry],
    }),
    httpDuration: new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Time to answer an HTTP request, by route pattern.',
      labelNames: ['method', 'route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    generationsCreated: new Counter({
      name: 'generations_created_total',
      help: 'Generations created: kind="text" answered at once, kind="image" queued for a worker.',
      labelNames: ['kind'],
      registers: [registry],
    }),
  };
}

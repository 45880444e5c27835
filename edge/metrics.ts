/** The edge's metrics, on its own registry (one per app, so tests do not share counters). */
import { MetricsRegistry, type Counter, type Histogram } from '../shared/metrics/index.js';

export interface EdgeMetrics {
  registry: MetricsRegistry;
  httpRequests: Counter<'method' | 'route' | 'status'>;
  httpDuration: Histogram<'method' | 'route'>;
  generationsCreated: Counter<'kind'>;
}

export function createEdgeMetrics(): EdgeMetrics {
  const registry = new MetricsRegistry();
  return {
    registry,
    httpRequests: registry.counter('http_requests_total', 'HTTP requests answered, by route pattern and status.', ['method', 'route', 'status']),
    httpDuration: registry.histogram(
      'http_request_duration_seconds',
      'Time to answer an HTTP request, by route pattern.',
      ['method', 'route'],
      [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    ),
    generationsCreated: registry.counter(
      'generations_created_total',
      'Generations created: kind="text" answered at once, kind="image" queued for a worker.',
      ['kind'],
    ),
  };
}

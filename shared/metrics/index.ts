/**
 * Metrics with prom-client: each process part has its own Registry (tests do not share
 * counters), with Node's default metrics (CPU, memory, GC, event-loop lag percentiles)
 * where asked. Several registries' metrics, from this process or pushed by worker
 * processes as JSON, are served as one exposition by prom-client's AggregatorRegistry,
 * each source's series kept apart by its labels (a worker's get `worker="<slot>"`).
 */
import { AggregatorRegistry, collectDefaultMetrics, type MetricObjectWithValues, type MetricValue, Registry } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const PROMETHEUS_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

/** A registry's metrics as prom-client's JSON (what crosses a process boundary). */
export type MetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** Anything whose metrics can join one exposition. */
export interface MetricsSource {
  json(): Promise<MetricsJson>;
}

/** A registry, with Node's default metrics when `defaults` (event-loop lag sampled every 10 ms). */
export function newRegistry(options: { defaults: boolean; prefix?: string }): Registry {
  const registry = new Registry();
  if (options.defaults)
    collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: 10, ...(options.prefix ? { prefix: options.prefix } : {}) });
  return registry;
}

export function sourceOf(registry: Registry): MetricsSource {
  return { json: () => registry.getMetricsAsJSON() as Promise<MetricsJson> };
}

/** The same metrics with `labels` added to every series (a worker's slot, say). */
export function withLabels(metrics: MetricsJson, labels: Record<string, string>): MetricsJson {
  return metrics.map((metric) => ({ ...metric, values: metric.values.map((v) => ({ ...v, labels: { ...labels, ...v.labels } })) }));
}

/**
 * One Prometheus text of several sources. Families of the same name merge; series stay
 * apart by their labels. Every family is summed by label set ('sum'), so that no source's
 * series is dropped or averaged with another's (prom-client omits process_start_time and
 * averages the lag gauges by default, which is for identical processes).
 */
export async function renderMetrics(sources: readonly MetricsSource[]): Promise<string> {
  const all = await Promise.all(sources.map((s) => s.json()));
  const summed = all.map((metrics) => metrics.map((m) => ({ ...m, aggregator: 'sum' as const })));
  return AggregatorRegistry.aggregate(summed).metrics();
}

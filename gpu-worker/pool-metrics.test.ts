import { describe, expect, it } from 'vitest';
import { type MetricsJson, renderMetrics, withLabels } from '../shared/metrics/index.js';
import { createWorkerMetrics } from './metrics.js';
import { poolMetricsJson } from './pool-metrics.js';

const render = async (json: MetricsJson) => renderMetrics([{ json: async () => json }]);

describe('pool metrics', () => {
  it('shows the process serving each slot and its restarts', async () => {
    const text = await render(
      await poolMetricsJson([
        { index: 0, pid: 4242, restarts: 2 },
        { index: 1, restarts: 0 },
      ]),
    );
    expect(text).toMatch(/^# TYPE worker_up gauge$/m);
    expect(text).toMatch(/^worker_up\{worker="0",pid="4242"\} 1$/m);
    expect(text).toMatch(/^worker_up\{worker="1",pid=""\} 0$/m);
    expect(text).toMatch(/^worker_restarts_total\{worker="0"\} 2$/m);
    expect(text).toMatch(/^worker_restarts_total\{worker="1"\} 0$/m);
  });

  it('keeps no series for a process that is gone', async () => {
    expect(await render(await poolMetricsJson([{ index: 0, pid: 7, restarts: 1 }]))).not.toContain('pid="6"');
  });

  it('is empty for no workers', async () => {
    expect(await poolMetricsJson([])).toEqual([]);
  });
});

describe('renderMetrics (workers merged with the aggregator)', () => {
  it('keeps each worker apart by its label, one HELP and TYPE a family, defaults included', async () => {
    const a = createWorkerMetrics();
    const b = createWorkerMetrics();
    a.denoiseCalls.inc();
    b.denoiseCalls.inc(3);
    a.batchSize.observe(4);
    const text = await renderMetrics([
      { json: async () => withLabels(await a.json(), { worker: '0' }) },
      { json: async () => withLabels(await b.json(), { worker: '1' }) },
    ]);
    expect(text).toMatch(/^denoise_calls_total\{worker="0"\} 1$/m);
    expect(text).toMatch(/^denoise_calls_total\{worker="1"\} 3$/m);
    expect(text.match(/^# TYPE denoise_calls_total counter$/gm)).toHaveLength(1);
    expect(text).toMatch(/^batch_size_bucket\{worker="0",le="4"\} 1$/m);
    expect(text).toMatch(/^nodejs_eventloop_lag_p99_seconds\{worker="1"\} /m);
    expect(text).toMatch(/^process_start_time_seconds\{worker="0"\} /m);
  });
});

import { describe, expect, it } from 'vitest';
import { createWorkerMetrics } from './metrics.js';
import { mergeWorkerMetrics } from './metrics-merge.js';

describe('mergeWorkerMetrics', () => {
  it('labels every sample with its worker and keeps one HELP/TYPE per family', () => {
    const a = createWorkerMetrics();
    const b = createWorkerMetrics();
    a.denoiseCalls.inc({}, 3);
    b.denoiseCalls.inc({}, 5);
    a.batchSize.observe({}, 2);
    b.jobs.inc({ status: 'succeeded' });
    const text = mergeWorkerMetrics([
      { worker: '0', text: a.render() },
      { worker: '1', text: b.render() },
    ]);
    expect(text.match(/^# TYPE denoise_calls_total counter$/gm)).toHaveLength(1);
    expect(text).toMatch(/^denoise_calls_total\{worker="0"\} 3$/m);
    expect(text).toMatch(/^denoise_calls_total\{worker="1"\} 5$/m);
    expect(text).toMatch(/^jobs_total\{worker="1",status="succeeded"\} 1$/m);
    expect(text).toMatch(/^batch_size_bucket\{worker="0",le="2"\} 1$/m);
    expect(text).toMatch(/^batch_size_count\{worker="0"\} 1$/m);
    // Families stay contiguous: every sample of a family follows its TYPE line.
    const lines = text.trim().split('\n');
    const typeAt = lines.indexOf('# TYPE denoise_calls_total counter');
    expect(lines.slice(typeAt + 1, typeAt + 3)).toEqual(['denoise_calls_total{worker="0"} 3', 'denoise_calls_total{worker="1"} 5']);
  });

  it('is empty for no workers', () => {
    expect(mergeWorkerMetrics([])).toBe('');
  });
});

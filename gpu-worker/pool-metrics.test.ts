import { describe, expect, it } from 'vitest';
import { renderPoolMetrics } from './pool-metrics.js';

describe('renderPoolMetrics', () => {
  it('shows the process serving each slot and its restarts', () => {
    const text = renderPoolMetrics([
      { index: 0, pid: 4242, restarts: 2 },
      { index: 1, restarts: 0 },
    ]);
    expect(text).toMatch(/^# TYPE worker_up gauge$/m);
    expect(text).toMatch(/^worker_up\{worker="0",pid="4242"\} 1$/m);
    expect(text).toMatch(/^worker_up\{worker="1",pid=""\} 0$/m);
    expect(text).toMatch(/^worker_restarts_total\{worker="0"\} 2$/m);
    expect(text).toMatch(/^worker_restarts_total\{worker="1"\} 0$/m);
  });

  it('keeps no series for a process that is gone', () => {
    expect(renderPoolMetrics([{ index: 0, pid: 7, restarts: 1 }])).not.toContain('pid="6"');
  });

  it('is empty for no workers', () => {
    expect(renderPoolMetrics([])).toBe('');
  });
});

import { describe, expect, it } from 'vitest';
import { MetricsRegistry, renderAll } from './index.js';

describe('MetricsRegistry', () => {
  it('renders counters and histograms in the Prometheus text format', () => {
    const r = new MetricsRegistry();
    const c = r.counter('http_requests_total', 'Requests.', ['route', 'status']);
    const h = r.histogram('latency_seconds', 'Latency.', ['route'], [0.1, 1]);
    c.inc({ route: '/a"b', status: 200 });
    c.inc({ route: '/a"b', status: 200 }, 2);
    h.observe({ route: '/x' }, 0.5);
    h.observe({ route: '/x' }, 5);
    expect(c.get({ route: '/a"b', status: 200 })).toBe(3);
    expect(r.render()).toBe(
      [
        '# HELP http_requests_total Requests.',
        '# TYPE http_requests_total counter',
        'http_requests_total{route="/a\\"b",status="200"} 3',
        '# HELP latency_seconds Latency.',
        '# TYPE latency_seconds histogram',
        'latency_seconds_bucket{route="/x",le="0.1"} 0',
        'latency_seconds_bucket{route="/x",le="1"} 1',
        'latency_seconds_bucket{route="/x",le="+Inf"} 2',
        'latency_seconds_sum{route="/x"} 5.5',
        'latency_seconds_count{route="/x"} 2',
        '',
      ].join('\n'),
    );
  });

  it('refuses a duplicate name and a counter going down', () => {
    const r = new MetricsRegistry();
    const c = r.counter('a_total', 'A.');
    expect(() => r.counter('a_total', 'A.')).toThrow(/twice/);
    expect(() => c.inc({}, -1)).toThrow(RangeError);
  });

  it('concatenates sources', () => {
    expect(renderAll([{ render: () => 'a 1\n' }, { render: () => 'b 2\n' }])).toBe('a 1\nb 2\n');
  });
});

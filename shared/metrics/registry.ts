/**
 * A small Prometheus registry (text exposition format 0.0.4): counters and histograms with
 * labels, enough for the edge and the worker without a dependency. A process's /metrics is
 * the concatenation of its sources' render() (the embedded start appends the worker's).
 */

/** Anything that can write metrics in the Prometheus text format. */
export interface MetricsSource {
  render(): string;
}

type Labels = Readonly<Record<string, string>>;

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function formatLabels(names: readonly string[], values: readonly string[], extra = ''): string {
  const parts = names.map((n, i) => `${n}="${escapeLabel(values[i] ?? '')}"`);
  if (extra) parts.push(extra);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

function formatNumber(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;

abstract class Metric<L extends string> implements MetricsSource {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly L[],
  ) {
    if (!NAME.test(name)) throw new Error(`invalid metric name ${name}`);
  }

  /** Label values in labelNames order, as one map key. */
  protected keyOf(labels: Partial<Record<L, string | number>>): string {
    return JSON.stringify(this.labelNames.map((n) => String(labels[n] ?? '')));
  }

  abstract render(): string;
}

export class Counter<L extends string = never> extends Metric<L> {
  private readonly values = new Map<string, number>();

  inc(labels: Partial<Record<L, string | number>> = {}, by = 1): void {
    if (!(by >= 0)) throw new RangeError('a counter only goes up');
    const key = this.keyOf(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  get(labels: Partial<Record<L, string | number>> = {}): number {
    return this.values.get(this.keyOf(labels)) ?? 0;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, value] of this.values) {
      lines.push(`${this.name}${formatLabels(this.labelNames, JSON.parse(key) as string[])} ${formatNumber(value)}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

interface HistogramCell {
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> extends Metric<L> {
  private readonly cells = new Map<string, HistogramCell>();
  readonly buckets: readonly number[];

  constructor(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]) {
    super(name, help, labelNames);
    this.buckets = [...buckets].sort((a, b) => a - b);
  }

  observe(labels: Partial<Record<L, string | number>>, value: number): void {
    const key = this.keyOf(labels);
    let cell = this.cells.get(key);
    if (!cell) {
      cell = { counts: this.buckets.map(() => 0), sum: 0, count: 0 };
      this.cells.set(key, cell);
    }
    this.buckets.forEach((upper, i) => {
      if (value <= upper) cell.counts[i]! += 1;
    });
    cell.sum += value;
    cell.count += 1;
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, cell] of this.cells) {
      const values = JSON.parse(key) as string[];
      this.buckets.forEach((upper, i) => {
        lines.push(`${this.name}_bucket${formatLabels(this.labelNames, values, `le="${formatNumber(upper)}"`)} ${cell.counts[i]}`);
      });
      lines.push(`${this.name}_bucket${formatLabels(this.labelNames, values, 'le="+Inf"')} ${cell.count}`);
      lines.push(`${this.name}_sum${formatLabels(this.labelNames, values)} ${formatNumber(cell.sum)}`);
      lines.push(`${this.name}_count${formatLabels(this.labelNames, values)} ${cell.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

/** Gauges whose value is read when rendered (queue depth, active jobs, ...). */
export class Gauge<L extends string = never> extends Metric<L> {
  private readonly values = new Map<string, number>();

  set(labels: Partial<Record<L, string | number>>, value: number): void {
    this.values.set(this.keyOf(labels), value);
  }

  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const [key, value] of this.values) {
      lines.push(`${this.name}${formatLabels(this.labelNames, JSON.parse(key) as string[])} ${formatNumber(value)}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

export class MetricsRegistry implements MetricsSource {
  private readonly metrics: MetricsSource[] = [];
  private readonly names = new Set<string>();

  counter<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return this.add(name, new Counter<L>(name, help, labelNames));
  }

  histogram<L extends string = never>(name: string, help: string, labelNames: readonly L[], buckets: readonly number[]): Histogram<L> {
    return this.add(name, new Histogram<L>(name, help, labelNames, buckets));
  }

  gauge<L extends string = never>(name: string, help: string, labelNames: readonly L[] = []): Gauge<L> {
    return this.add(name, new Gauge<L>(name, help, labelNames));
  }

  render(): string {
    return this.metrics.map((m) => m.render()).join('');
  }

  private add<M extends MetricsSource>(name: string, metric: M): M {
    if (this.names.has(name)) throw new Error(`metric ${name} registered twice`);
    this.names.add(name);
    this.metrics.push(metric);
    return metric;
  }
}

/** The text of several sources, one after the other. */
export function renderAll(sources: readonly MetricsSource[]): string {
  return sources.map((s) => s.render()).join('');
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

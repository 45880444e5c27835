/** The benchmark's JSON (results/bench.json). */
import type { EdgeSection } from './edge-load.js';
import type { MatmulSection } from './matmul.js';
import type { SamplingSection } from './sampling.js';
import type { ContextSection, StepSection } from './step.js';
import type { TorchSection } from './torch.js';
import type { WorkerSection } from './worker-load.js';

export interface QualityConfig {
  precision: string;
  guidance_interval: number[];
  steps: number;
  network_rows_per_image: number;
  results: Record<string, { n: number; accuracy: number }>;
  delta_points: Record<string, number>;
}

export interface QualityReport {
  package_name?: string;
  n_per_direction: number;
  configs: QualityConfig[];
}

export interface MetricsCheck {
  source: string;
  required: string[];
  missing: string[];
}

export interface BenchResult {
  mode: 'quick' | 'full';
  command: string;
  startedAt: string;
  seconds: number;
  machine: {
    cpus: number;
    cpuModel: string;
    memGb: number;
    node: string;
    ort: string;
    loadNote?: string;
    busyAtStart: string[];
    busyAtEnd: string[];
  };
  package: { dir: string; name: string; params?: number };
  options: { stepJobs: number[]; concurrency: number[]; workerBatch: number; maxBatch: number; autoAt: number; workerPrecision: string };
  /** Steps on the denoise-only graph (what the worker runs). */
  step: StepSection[];
  /** The same steps on the full serving graph. */
  fullGraph: StepSection[];
  context: ContextSection[];
  torch: TorchSection;
  matmul: MatmulSection;
  worker: Omit<WorkerSection, 'metricsText' | 'metricsJson'>;
  edge: Omit<EdgeSection, 'metricsText'>;
  metrics: MetricsCheck[];
  quality?: QualityReport;
  /** Issue 30: per package and step count, through the public API. */
  sampling?: SamplingSection;
  gpu: { available: boolean; reason?: string };
}

/** The benchmark's verdicts against issue 5's targets, and its Markdown report. */

import { round } from './stats.js';
import type { BenchResult } from './types.js';

export interface Verdict {
  name: string;
  target: string;
  measured: string;
  met: boolean | null;
  note?: string;
}

const fmt = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? '-' : String(round(x, digits)));
const yes = (met: boolean | null): string => (met === null ? 'n/a' : met ? 'yes' : '**no**');

/** Whether int8 held quality (results/quality.json), or undefined when not measured. */
export function int8Quality(r: BenchResult): { held: boolean; worstDrop: number } | undefined {
  const q = r.quality;
  if (!q) return undefined;
  const base = q.configs[0];
  const int8 = q.configs.find(
    (c) =>
      c.precision === 'int8' && JSON.stringify(c.guidance_interval) === JSON.stringify(base?.guidance_interval) && c.steps === base?.steps,
  );
  if (base?.precision !== 'fp32' || !int8) return undefined;
  const worstDrop = Math.max(0, ...Object.values(int8.delta_points).map((d) => -d));
  return { held: worstDrop <= 2, worstDrop };
}

export function verdicts(r: BenchResult): Verdict[] {
  const out: Verdict[] = [];
  const w = r.worker;
  const batchTarget = r.options.workerBatch;
  const cTarget = r.options.autoAt;
  const cont = w.runs.find((x) => x.mode === 'continuous' && x.concurrency === cTarget);
  const aloneOne = w.runs.find((x) => x.mode === 'one-at-a-time' && x.concurrency === 1);
  if (cont && aloneOne) {
    out.push({
      name: `Jobs per denoising call, WORKER_MAX_BATCH=${batchTarget}, ${cTarget} concurrent`,
      target: `>= ${cTarget}`,
      measured: `${fmt(cont.jobsPerCall)} jobs (${fmt(cont.networkRowsPerCall)} network rows with guidance)`,
      met: cont.jobsPerCall >= cTarget,
    });
    out.push({
      name: `Throughput, ${cTarget} concurrent at batch ${batchTarget} vs one job alone`,
      target: '>= 1.0x',
      measured: `${fmt(cont.imagesPerSecond)} vs ${fmt(aloneOne.imagesPerSecond)} img/s (${fmt(cont.imagesPerSecond / aloneOne.imagesPerSecond)}x)`,
      met: cont.imagesPerSecond >= aloneOne.imagesPerSecond,
    });
  }
  const auto = w.runs.find((x) => x.mode.startsWith('default') && x.concurrency === cTarget);
  const oneAt = w.runs.find((x) => x.mode === 'one-at-a-time' && x.concurrency === cTarget);
  if (auto && oneAt) {
    out.push({
      name: `Mean latency, ${cTarget} concurrent, default batch (auto=${auto.maxBatch}) vs one-at-a-time`,
      target: '<= 1.10x',
      measured: `${fmt(auto.latencyMean)} s vs ${fmt(oneAt.latencyMean)} s (${fmt(auto.latencyMean / oneAt.latencyMean)}x)`,
      met: auto.latencyMean <= 1.1 * oneAt.latencyMean,
    });
  }
  const quality = int8Quality(r);
  for (const jobs of r.options.stepJobs) {
    const torchBest = Math.min(...Object.values(r.torch.modes).map((m) => m[String(jobs)]?.median_ms ?? Infinity));
    const torchMode = Object.entries(r.torch.modes).find(([, m]) => m[String(jobs)]?.median_ms === torchBest)?.[0] ?? '?';
    const ort = (p: string) => r.step.find((s) => s.precision === p)?.batches.find((b) => b.jobs === jobs)?.medianMs;
    const fp32 = ort('fp32');
    const int8 = ort('int8');
    const best = quality?.held === false || int8 === undefined ? fp32 : Math.min(fp32 ?? Infinity, int8);
    const bestName = best === int8 ? 'int8' : 'fp32';
    if (best === undefined) continue;
    out.push({
      name: `Denoising step, ${jobs} job(s): onnxruntime-node (${bestName}) vs PyTorch eager at its best (${torchMode})`,
      target: '>= 1.3x faster, quality held',
      measured: `${fmt(best, 1)} vs ${fmt(torchBest, 1)} ms (${fmt(torchBest / best)}x; fp32 ${fmt(torchBest / (fp32 ?? NaN))}x${int8 !== undefined ? `, int8 ${fmt(torchBest / int8)}x` : ''})`,
      met: torchBest / best >= 1.3 && (bestName === 'fp32' || quality?.held === true),
      ...(bestName === 'int8' && !quality ? { note: 'int8 quality not measured in this run (results/quality.json missing)' } : {}),
    });
  }
  for (const s of r.step) {
    const ceiling = r.matmul.ceiling[s.precision as 'fp32' | 'int8'];
    const best = s.batches.reduce((a, b) => (b.gflopsPerSecond > a.gflopsPerSecond ? b : a));
    out.push({
      name: `Achieved FLOP/s of the step (${s.precision}, ${best.jobs} jobs) vs ${s.precision === 'int8' ? 'int8 MatMulInteger' : 'fp32 MatMul'} ceiling`,
      target: '>= 60 %',
      measured: `${fmt(best.gflopsPerSecond, 1)} vs ${fmt(ceiling, 1)} G(FL)OP/s (${fmt((100 * best.gflopsPerSecond) / ceiling, 0)} %)`,
      met: best.gflopsPerSecond >= 0.6 * ceiling,
    });
  }
  for (const c of r.context) {
    out.push({
      name: `Step cost, 64-token over 8-token prompt (${c.precision}, ${c.jobs} job(s))`,
      target: '<= 1.15',
      measured: `${fmt(c.ratio, 3)} (${fmt(c.longMs)} vs ${fmt(c.shortMs)} ms; FLOPs ratio ${fmt(c.flopsRatio, 3)}; recomputing the context instead: ${fmt(c.recomputeRatio)}x)`,
      met: c.ratio <= 1.15,
    });
  }
  out.push({
    name: `Edge overhead on POST /v1/generations, ${r.edge.connections} connections (model time excluded)`,
    target: 'p99 <= 15 ms',
    measured: `p50 ${fmt(r.edge.overheadMs.p50)} ms, p99 ${fmt(r.edge.overheadMs.p99)} ms (${r.edge.requests} requests)`,
    met: r.edge.overheadMs.p99 <= 15,
  });
  return out;
}

function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

export function markdown(r: BenchResult): string {
  const parts: string[] = [];
  parts.push(`# Benchmark: ${r.package.name} (${r.mode})`);
  parts.push(
    `${r.startedAt}, ${r.machine.cpus} x ${r.machine.cpuModel}, ${r.machine.memGb} GB, node ${r.machine.node}, onnxruntime-node ${r.machine.ort}; ` +
      `package \`${r.package.dir}\` (${r.package.params ?? '?'} parameters); ${fmt(r.seconds, 0)} s. Reproduce: \`${r.command}\`.`,
  );
  if (r.machine.loadNote) parts.push(`> ${r.machine.loadNote}`);
  const others = [...new Set([...r.machine.busyAtStart, ...r.machine.busyAtEnd])];
  if (others.length > 0)
    parts.push(`> Other processes using >= 20 % CPU at the start or end of the run:\n${others.map((o) => `> - \`${o}\``).join('\n')}`);
  parts.push('## Targets (issue 5)');
  parts.push(
    table(
      ['Measure', 'Target', 'Measured', 'Met'],
      verdicts(r).map((v) => [v.name, v.target, v.measured + (v.note ? ` (${v.note})` : ''), yes(v.met)]),
    ),
  );

  parts.push(`## Worker under load (in-process engine, ${r.worker.precision}, ${r.worker.steps} steps, guidance ${r.worker.guidance})`);
  parts.push(
    `WORKER_MAX_BATCH=auto measured ${r.worker.auto.measurements.map((m) => `${m.batch}: ${fmt(m.rowsPerSecond, 1)} jobs/s`).join(', ')} and chose **${r.worker.auto.chosen}**.`,
  );
  parts.push(
    table(
      ['Mode', 'Max batch', 'Concurrent jobs', 'Images/s', 'p50 s', 'p95 s', 'Mean s', 'Jobs/call', 'Rows/call', 'Model busy'],
      r.worker.runs.map((x) => [
        x.mode,
        x.maxBatch,
        x.concurrency,
        fmt(x.imagesPerSecond, 2),
        fmt(x.latencyP50),
        fmt(x.latencyP95),
        fmt(x.latencyMean),
        fmt(x.jobsPerCall),
        fmt(x.networkRowsPerCall),
        `${fmt(100 * x.modelBusy, 0)} %`,
      ]),
    ),
  );
  const top = r.worker.runs.find((x) => x.peakRssMb !== undefined);
  if (top)
    parts.push(
      `Memory: process RSS peaked at **${fmt(top.peakRssMb, 0)} MB** with ${top.concurrency} jobs at max batch ${top.maxBatch} (baseline with the model loaded ${fmt(r.worker.rssBaselineMb, 0)} MB; the worker runs in the benchmark's process).`,
    );

  parts.push('## One denoising step (guidance on: 2 network rows per job)');
  const rows: (string | number)[][] = [];
  for (const s of r.step) {
    for (const b of s.batches) {
      rows.push([
        `onnxruntime-node ${s.precision}${s.graph === 'denoise' ? ', denoise graph' : ''}`,
        b.jobs,
        fmt(b.medianMs, 2),
        fmt(b.msPerJob, 2),
        fmt(b.gflopsPerSecond, 1),
        `${fmt((100 * b.gflopsPerSecond) / r.matmul.ceiling[s.precision as 'fp32' | 'int8'], 0)} %`,
      ]);
    }
  }
  for (const s of r.fullGraph) {
    for (const b of s.batches) {
      rows.push([
        `onnxruntime-node ${s.precision}, full graph (logits, present K/V)`,
        b.jobs,
        fmt(b.medianMs, 2),
        fmt(b.msPerJob, 2),
        fmt(b.gflopsPerSecond, 1),
        `${fmt((100 * b.gflopsPerSecond) / r.matmul.ceiling[s.precision as 'fp32' | 'int8'], 0)} %`,
      ]);
    }
  }
  for (const [mode, byJobs] of Object.entries(r.torch.modes)) {
    for (const [jobs, t] of Object.entries(byJobs)) {
      // PyTorch's forward computes the logits too: count them, as for the full graph.
      const flops = r.fullGraph[0]?.batches.find((b) => b.jobs === Number(jobs))?.flops;
      const g = flops ? flops / (t.median_ms * 1e6) : NaN;
      rows.push([
        `PyTorch ${r.torch.torch} eager ${mode === 'bf16' ? 'bf16 autocast' : 'fp32'} (${r.torch.threads} threads)`,
        jobs,
        fmt(t.median_ms, 2),
        fmt(t.median_ms / Number(jobs), 2),
        fmt(g, 1),
        `${fmt((100 * g) / (mode === 'bf16' ? NaN : r.matmul.ceiling.fp32), 0)} %`,
      ]);
    }
  }
  parts.push(table(['Implementation', 'Jobs', 'ms/call', 'ms/job', 'GFLOP/s', 'of same-precision matmul'], rows));
  parts.push(
    'Matrix-multiply ceiling (onnxruntime-node, same run): ' +
      r.matmul.results
        .map((m) => `${m.precision} ${m.m}x${m.k}x${m.n}: ${fmt(m.gflopsPerSecond, 1)} G${m.precision === 'int8' ? 'OP' : 'FLOP'}/s`)
        .join('; ') +
      '. FLOPs are counted from the config (flops.ts): the matrix multiplies the graph executes, padding included.',
  );

  parts.push('## Context cache');
  parts.push(
    table(
      ['Precision', 'Jobs', '8-token ms', '64-token ms', 'Ratio', 'FLOPs ratio', 'Recompute 64-token context each step, ms'],
      r.context.map((c) => [
        c.precision,
        c.jobs,
        fmt(c.shortMs),
        fmt(c.longMs),
        fmt(c.ratio, 3),
        fmt(c.flopsRatio, 3),
        fmt(c.recomputeLongMs),
      ]),
    ),
  );

  parts.push(
    `## Edge (POST /v1/generations, ${r.edge.connections} connections, ${r.edge.durationSeconds} s, autocannon; text model ${r.edge.precision})`,
  );
  parts.push(
    table(
      [
        'Requests',
        'Req/s',
        'Status',
        'Client p50 ms',
        'Client p99 ms',
        'Model ms/request',
        'Edge work ms/request',
        'Overhead p50 ms',
        'Overhead p99 ms',
      ],
      [
        [
          r.edge.requests,
          fmt(r.edge.requestsPerSecond, 1),
          Object.entries(r.edge.statusCounts)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k}: ${n}`)
            .join(', '),
          fmt(r.edge.clientLatencyMs.p50),
          fmt(r.edge.clientLatencyMs.p99),
          fmt(r.edge.modelMsPerRequest),
          fmt(r.edge.edgeMsPerRequest),
          fmt(r.edge.overheadMs.p50),
          fmt(r.edge.overheadMs.p99),
        ],
      ],
    ),
  );
  parts.push(
    "Client latency includes waiting for the text model, which decodes one request at a time on the edge's decode thread. Overhead is a request's server time (headers parsed to last byte written) minus its model time (from asking for its decode to the answer, the wait for other decodes included): " +
      "the edge's own work plus waiting for other requests' edge work on the event loop. Model ms/request is the decode thread's busy time per request; edge work ms/request is the event loop's busy time per request.",
  );

  if (r.quality) {
    parts.push(`## Quality (model/evaluation/eval_onnx.py, ${r.quality.n_per_direction} conversations per direction)`);
    parts.push(
      table(
        ['Precision', 'Guidance interval', 'Steps', 'Network rows/image', 'Draw %', 'Describe %', 'Δ draw', 'Δ describe'],
        r.quality.configs.map((c) => [
          c.precision,
          `[${c.guidance_interval.join(', ')}]`,
          c.steps,
          c.network_rows_per_image,
          fmt(100 * (c.results['draw/all']?.accuracy ?? NaN), 1),
          fmt(100 * (c.results['describe/all']?.accuracy ?? NaN), 1),
          fmt(c.delta_points['draw/all'] ?? 0, 1),
          fmt(c.delta_points['describe/all'] ?? 0, 1),
        ]),
      ),
    );
  } else {
    parts.push('## Quality\nNot measured in this run: `results/quality.json` (from `model/evaluation/eval_onnx.py`) is missing.');
  }

  parts.push('## Metrics');
  parts.push(
    table(
      ['Source', 'Required names', 'Missing'],
      r.metrics.map((m) => [m.source, m.required.length, m.missing.length === 0 ? 'none' : m.missing.join(', ')]),
    ),
  );
  parts.push(`## GPU\n${r.gpu.available ? JSON.stringify(r.gpu) : `Not measured: ${r.gpu.reason}`}`);
  return `${parts.join('\n\n')}\n`;
}

import { describe, expect, it } from 'vitest';
import { besideBaseline, type SamplingRun, samplingMarkdown } from '../../bench/sampling.js';

/** A run with only what the comparison reads. */
function run(packageDir: string, steps: number, round: number, aloneSeconds: number, rates: [number, number]): SamplingRun {
  const level = (clients: number, imagesPerSecond: number) => ({
    clients,
    images: 32,
    wallSeconds: 1,
    imagesPerSecond,
    latencyP50: 0.1,
    latencyP95: 0.1,
    latencyMean: 0.1,
    failed: 0,
  });
  return {
    package: 'shapes64',
    packageDir,
    round,
    steps,
    guidance: 6,
    guidanceMode: steps === 10 ? 'adjustable' : 'fixed',
    evaluationsPerImage: steps,
    rowsPerImage: steps,
    unconditionalRowsPerImage: 0,
    measuredCallsPerImage: steps,
    aloneSeconds,
    aloneStretchesMs: { edge: 1, start: 1, image: 1, answer: 1, receive: 1 },
    levels: [level(1, rates[0]), level(16, rates[1])],
  };
}

describe('besideBaseline', () => {
  // Round 0 lists the teacher first; round 1 the student first (the order alternates).
  const runs = [
    run('/t', 10, 0, 0.12, [8, 10]),
    run('/s', 1, 0, 0.03, [32, 60]),
    run('/s', 1, 1, 0.024, [36, 66]),
    run('/t', 10, 1, 0.12, [8, 11]),
    run('/s', 1, 2, 0.04, [30, 50]),
    run('/t', 10, 2, 0.12, [8, 10]),
  ];

  it('compares each sampler with the baseline of its own round, and takes the median over rounds', () => {
    const [student] = besideBaseline(runs, '/t');
    expect(student).toMatchObject({ packageDir: '/s', steps: 1 });
    expect(student?.alone).toEqual({ each: [4, 5, 3], median: 4 });
    expect(student?.throughput).toEqual([
      { clients: 1, ratio: { each: [4, 4.5, 3.75], median: 4 } },
      { clients: 16, ratio: { each: [6, 6, 5], median: 6 } },
    ]);
  });

  it('has nothing to compare without the baseline, and reports it in the Markdown with each round', () => {
    expect(besideBaseline(runs, '/missing')).toEqual([]);
    const md = samplingMarkdown({ clients: [1, 16], maxBatch: 16, wake: 'told', rounds: 3, runs, beside: besideBaseline(runs, '/t') });
    expect(md).toContain('| round | package |');
    expect(md).toContain('**4x** (4, 5, 3)');
    expect(md).toContain('median over 3 rounds, the package order reversed each round');
  });
});

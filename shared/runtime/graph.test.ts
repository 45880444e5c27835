import { describe, expect, it } from 'vitest';
import { sessionOptions } from './graph.js';

describe('sessionOptions', () => {
  it("keeps a CPU session's thread pool from spinning between calls, so that another session's call gets the cores", () => {
    const cpu = sessionOptions({ executionProvider: 'cpu', intraOpThreads: 2 });
    expect(cpu).toMatchObject({ executionProviders: ['cpu'], intraOpNumThreads: 2 });
    expect(cpu.extra).toEqual({ 'session.intra_op.allow_spinning': '0', 'session.inter_op.allow_spinning': '0' });
  });

  it('leaves a CUDA session as onnxruntime sets it up', () => {
    const cuda = sessionOptions({ executionProvider: 'cuda' });
    expect(cuda).toEqual({ executionProviders: ['cuda'], graphOptimizationLevel: 'all' });
  });
});

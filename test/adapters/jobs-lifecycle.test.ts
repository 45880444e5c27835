import { describe, expect, it } from 'vitest';
import {
  encodeJobMessage,
  InvalidJobMessageError,
  isTerminal,
  isTransitionAllowed,
  JobRecordBase,
  JobStatus,
  jobKey,
  parseJobMessage,
} from '../../shared/jobs/index.js';

describe('job status transitions', () => {
  const allowed: Array<[JobStatus, JobStatus]> = [
    ['queued', 'queued'],
    ['queued', 'running'],
    ['queued', 'succeeded'],
    ['queued', 'failed'],
    ['queued', 'canceled'],
    ['running', 'running'],
    ['running', 'succeeded'],
    ['running', 'failed'],
    ['running', 'canceled'],
  ];
  const key = (a: JobStatus, b: JobStatus) => `${a}->${b}`;
  const allowedSet = new Set(allowed.map(([a, b]) => key(a, b)));

  it('allows exactly the forward moves, for every pair', () => {
    for (const from of JobStatus.options) {
      for (const to of JobStatus.options) {
        expect(isTransitionAllowed(from, to), key(from, to)).toBe(allowedSet.has(key(from, to)));
      }
    }
  });

  it('treats succeeded, failed and canceled as terminal', () => {
    expect(JobStatus.options.filter(isTerminal)).toEqual(['succeeded', 'failed', 'canceled']);
  });
});

describe('job message', () => {
  it('round-trips', () => {
    const m = { jobId: 'abc_123-X', requestId: 'req-1' };
    expect(parseJobMessage(encodeJobMessage(m))).toEqual(m);
  });

  it.each([
    ['not JSON', 'nope'],
    ['missing requestId', '{"jobId":"a"}'],
    ['unknown field', '{"jobId":"a","requestId":"r","prompt":"x"}'],
    ['unsafe id', '{"jobId":"../x","requestId":"r"}'],
  ])('refuses %s', (_, body) => {
    expect(() => parseJobMessage(body)).toThrow(InvalidJobMessageError);
  });
});

describe('job record', () => {
  it('keeps extra fields and validates lifecycle ones', () => {
    const now = new Date().toISOString();
    const rec = { id: 'j1', status: 'queued', created_at: now, updated_at: now, progress: { step: 0, steps: 4 }, output: [] };
    expect(JobRecordBase.parse(rec)).toEqual(rec);
    expect(() => JobRecordBase.parse({ ...rec, status: 'done' })).toThrow();
    expect(jobKey('j1')).toBe('jobs/j1.json');
    expect(() => jobKey('a/b')).toThrow();
  });
});

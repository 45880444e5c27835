import { describe, expect, it } from 'vitest';
import { encodeJobMessage } from '../shared/jobs/message.js';
import type { JobRepository } from '../shared/jobs/repository.js';
import type { ReceivedMessage } from '../shared/ports/queue.js';
import type { JobRecord } from '../shared/schemas/job.js';
import { classify } from './intake.js';

const message: ReceivedMessage = {
  messageId: 'm1',
  receiptHandle: 'r1',
  body: encodeJobMessage({ jobId: 'gen_1', requestId: 'req_1', model: 'tiny' }),
  receiveCount: 1,
  sentAt: 0,
};
const record = { id: 'gen_1', status: 'queued', model: 'tiny' } as JobRecord;
const served = { names: ['tiny'] };

/** The two reads classify makes, each answered when the test says. */
function jobsWith(marker: () => Promise<boolean>) {
  const asked: string[] = [];
  let answer: (r: JobRecord | null) => void = () => {};
  const jobs = {
    read: () => {
      asked.push('record');
      return new Promise<{ value: JobRecord; etag: string } | null>((resolve) => (answer = (r) => resolve(r && { value: r, etag: 'e1' })));
    },
    isCancelRequested: () => {
      asked.push('cancel marker');
      return marker();
    },
  } as unknown as JobRepository<JobRecord>;
  return { jobs, asked, answer: (r: JobRecord | null) => answer(r) };
}

describe('classify', () => {
  it('reads the cancel marker beside the record, not after it', async () => {
    const { jobs, asked, answer } = jobsWith(async () => false);
    const verdict = classify(message, jobs, served);
    await Promise.resolve();
    expect([...asked].sort()).toEqual(['cancel marker', 'record']); // both asked before the record came back
    answer(record);
    // The record's etag comes with it: the worker's first write names it without reading again.
    expect(await verdict).toMatchObject({ kind: 'run', jobId: 'gen_1', model: 'tiny', etag: 'e1' });
  });

  it('cancels a job whose marker is there, and fails the read when the marker cannot be read', async () => {
    const marked = jobsWith(async () => true);
    const canceled = classify(message, marked.jobs, served);
    marked.answer(record);
    expect(await canceled).toMatchObject({ kind: 'cancel' });

    const broken = jobsWith(() => Promise.reject(new Error('store down')));
    const failed = classify(message, broken.jobs, served);
    broken.answer(record);
    await expect(failed).rejects.toThrow('store down');
  });

  it('leaves a message without a record for the dead-letter queue, whatever its marker read did', async () => {
    const broken = jobsWith(() => Promise.reject(new Error('store down')));
    const verdict = classify(message, broken.jobs, served);
    broken.answer(null);
    expect(await verdict).toMatchObject({ kind: 'poison', reason: 'no job record for this message' });
  });
});

import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../shared/schemas/job.js';
import { applyCheckpoints, imagesIn, makeCheckpoint } from './checkpoint.js';
import { toSucceeded, withProgress } from './transitions.js';

const EOI = 9;
const BOI = 8;
const now = '2026-01-01T00:00:00.000Z';
const record: JobRecord = {
  id: 'job',
  request_id: 'req',
  created_at: now,
  updated_at: now,
  status: 'running',
  progress: { step: 0, steps: 2 },
  params: { seed: 1, steps: 2, guidance: 1, max_tokens: 10, temperature: 0 },
  context: [{ type: 'text', ids: [1, 2, BOI] }],
  output: [{ type: 'text', text: 'hi' }],
  tokens_used: 1,
};
const cp = (index: number, text: string, stopId?: number) =>
  makeCheckpoint({
    jobId: 'job',
    index,
    width: 64,
    height: 64,
    eoi: EOI,
    ids: text ? [40 + index] : [],
    text,
    tokensUsed: 2 + index,
    ...(stopId !== undefined ? { stopId } : {}),
  });

describe('checkpoints', () => {
  it('adds the image, the text after it, and the image key with <eoi>, the ids and the stop token to the context', () => {
    const next = applyCheckpoints(record, [cp(0, ' and', BOI)])!;
    expect(next.output).toEqual([
      { type: 'text', text: 'hi' },
      { type: 'image', key: 'outputs/job/0.png', width: 64, height: 64, mime_type: 'image/png' },
      { type: 'text', text: ' and' },
    ]);
    expect(next.context).toEqual([
      { type: 'text', ids: [1, 2, BOI] },
      { type: 'image', key: 'outputs/job/0.png' },
      { type: 'text', ids: [EOI, 40, BOI] },
    ]);
    expect(next.tokens_used).toBe(2);
    // No text after the image, and the budget ran out: the image and <eoi> alone.
    expect(applyCheckpoints(record, [cp(0, '')])!.context.at(-1)).toEqual({ type: 'text', ids: [EOI] });
  });

  it('never adds an image twice: what the record holds is skipped, a repeat writes nothing', () => {
    const once = applyCheckpoints(record, [cp(0, ' a', BOI)])!;
    expect(applyCheckpoints(once, [cp(0, ' a', BOI)])).toBeNull();
    const twice = applyCheckpoints(once, [cp(0, ' a', BOI), cp(1, ' b', BOI)])!;
    expect(imagesIn(twice)).toBe(2);
    expect(twice.output.map((p) => (p.type === 'text' ? p.text : p.key))).toEqual([
      'hi',
      'outputs/job/0.png',
      ' a',
      'outputs/job/1.png',
      ' b',
    ]);
    expect(twice.tokens_used).toBe(3);
  });

  it('leaves a record that does not follow on (a gap) as it is', () => {
    expect(applyCheckpoints(record, [cp(1, ' b', BOI)])).toBeNull();
  });

  it('writes into a running record only; success applies whatever is missing, then never again', () => {
    const progress = { step: 0, steps: 2, image: 1, images_so_far: 1 };
    expect(withProgress(progress, [cp(0, ' a', BOI)])({ ...record, status: 'canceled' })).toBeNull();
    const shown = withProgress(progress, [cp(0, ' a', BOI)])(record)!;
    expect([shown.progress, imagesIn(shown)]).toEqual([progress, 1]);
    // A progress write with nothing new to add still moves the progress.
    expect(withProgress({ ...progress, step: 1 }, [cp(0, ' a', BOI)])(shown)?.progress.step).toBe(1);
    const done = toSucceeded([cp(0, ' a', BOI), cp(1, '.', 7)], { step: 2, steps: 2, image: 1, images_so_far: 2 })(
      applyCheckpoints(record, [cp(0, ' a', BOI)])!,
    )!;
    expect(done.status).toBe('succeeded');
    expect(imagesIn(done)).toBe(2);
    expect(toSucceeded([cp(0, ' a', BOI)], progress)(done)).toBeNull();
  });
});

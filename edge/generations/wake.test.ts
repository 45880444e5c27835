/**
 * The embedded default's wake (issue 30): a request waiting on a generation (Prefer: wait,
 * live events, the OpenAI image route) is answered when the worker's write of the record is
 * told (edge/changes/notified.ts), not at a later read. The adapter's fallback read is an
 * hour away here and the worker writes only once the request is watching: each test passes
 * only if the wake happened (else it runs into the test timeout). No duration is asserted.
 */
import { describe, expect, it } from 'vitest';
import { TellingStore } from '../../gpu-worker/telling-store.js';
import { jobRepository } from '../../shared/adapters.js';
import type { JobRepository } from '../../shared/jobs/repository.js';
import type { ObjectStore } from '../../shared/ports/store.js';
import { Generation } from '../../shared/schemas/index.js';
import { type JobRecord, outputImageKey } from '../../shared/schemas/job.js';
import { appFixture } from '../../test/support/app.js';
import { pngBytes } from '../../test/support/images.js';
import { waitFor } from '../../test/worker/helpers.js';
import { NotifiedJobChanges } from '../changes/notified.js';

const HOUR = 3_600_000;
let changes: NotifiedJobChanges;
const api = appFixture((tiny) => {
  changes = new NotifiedJobChanges(HOUR);
  return { textDecoder: tiny.decodeTo('hi', 'boi'), jobChanges: changes, events: { pollMs: HOUR, heartbeatMs: HOUR } };
});

/** The worker's writes of a job: running, each step, its PNG, succeeded. */
async function finish(jobs: JobRepository<JobRecord>, store: ObjectStore, id: string, steps: number): Promise<void> {
  await jobs.update(id, (r) => ({ ...r, status: 'running', progress: { step: 0, steps } }));
  for (let step = 1; step < steps; step += 1) await jobs.update(id, (r) => ({ ...r, progress: { step, steps } }));
  const key = outputImageKey(id, 0);
  await store.put(
    key,
    pngBytes(2, 2, () => [9, 9, 9, 255]),
    { contentType: 'image/png' },
  );
  await jobs.update(id, (r) => ({
    ...r,
    status: 'succeeded',
    progress: { step: steps, steps },
    output: [...r.output, { type: 'image', key, width: 2, height: 2, mime_type: 'image/png' }],
  }));
}

/** Plays the worker once a request watches: its record writes go through the telling store, as a pool worker's do. */
async function workerOnceWatched(steps = 2): Promise<string> {
  const store = new TellingStore(api.deps.store, (id) => changes.notify(id));
  const [m] = await waitFor(async () => {
    const got = await api.deps.queue.receive({ maxMessages: 1, waitSeconds: 1 });
    return got.length > 0 ? got : undefined;
  }, 'the job message');
  const { jobId } = JSON.parse(m!.body) as { jobId: string };
  await waitFor(async () => changes.watching > 0, 'the request to watch its generation');
  await finish(jobRepository(store), store, jobId, steps);
  await api.deps.queue.delete(m!.receiptHandle);
  return jobId;
}

describe("a waiting request is woken by the worker's write", () => {
  it('Prefer: wait answers 201 with the finished generation', async () => {
    api.setup();
    const worker = workerOnceWatched();
    const res = await api.post('/v1/generations', { prompt: 'draw' }, { Prefer: 'wait=60' });
    expect(res.status).toBe(201);
    const g = Generation.parse(await res.json());
    expect(g.id).toBe(await worker);
    expect(g).toMatchObject({ status: 'succeeded', progress: { step: 2, steps: 2 } });
    expect(changes.watching).toBe(0); // the watch is closed with the answer
  });

  it('live events send each written state and end with the terminal one', async () => {
    api.setup();
    const created = Generation.parse(await (await api.post('/v1/generations', { prompt: 'draw' })).json());
    const worker = workerOnceWatched(1);
    const res = await api.app.request(`/v1/generations/${created.id}/events`);
    const text = await res.text(); // the stream ends after the terminal state
    await worker;
    const states = [...text.matchAll(/^data: (.*)$/gm)].map((m) => (JSON.parse(m[1]!) as { status: string }).status);
    expect(states[0]).toBe('queued');
    expect(states[states.length - 1]).toBe('succeeded');
    expect(states).toContain('running');
  });

  it('the OpenAI image route answers with the image', async () => {
    api.setup();
    const worker = workerOnceWatched(1);
    const res = await api.post('/v1/images/generations', { prompt: 'a red circle', response_format: 'b64_json' });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: { b64_json: string }[]; generation_ids: string[] };
    expect(body.generation_ids).toEqual([await worker]);
    expect(Buffer.from(body.data[0]!.b64_json, 'base64').subarray(1, 4).toString()).toBe('PNG');
  });
});

/** Prefer: wait=N on POST /v1/generations, and queue_position while queued. */
import { describe, expect, it } from 'vitest';
import { Generation } from '../../shared/schemas/index.js';
import { appFixture } from '../../test/support/app.js';
import { playWorker } from '../../test/support/play-worker.js';
import { preferredWait } from './wait.js';

const api = appFixture((tiny) => ({ textDecoder: tiny.decodeTo('hi', 'boi'), events: { pollMs: 5 } }));
const { setup } = api;
const post = (headers: Record<string, string> = {}) => api.post('/v1/generations', '{"prompt":"draw"}', headers);

describe('preferredWait', () => {
  it.each([
    [undefined, undefined],
    ['', undefined],
    ['respond-async', undefined],
    ['wait=10', 10],
    ['respond-async, wait=5', 5],
    ['WAIT = 7', 7],
    ['wait="3"', 3],
    ['wait=0', 1],
    ['wait=3600', 60],
    ['wait=abc', undefined],
  ])('%j -> %j', (header, expected) => expect(preferredWait(header)).toBe(expected));

  it('clamps to the platform maximum', () => expect(preferredWait('wait=60', 20)).toBe(20));
});

describe('Prefer: wait on POST /v1/generations', () => {
  it('holds the answer until the generation finishes: 201 with the finished generation', async () => {
    setup();
    // The worker picks the job up as soon as its message is there.
    const worker = (async () => {
      for (;;) {
        const [m] = await api.deps.queue.receive({ maxMessages: 1, waitSeconds: 5 });
        if (!m) continue;
        const { jobId } = JSON.parse(m.body) as { jobId: string };
        await playWorker(api.deps, jobId, 2);
        await api.deps.queue.delete(m.receiptHandle);
        return jobId;
      }
    })();
    const res = await post({ Prefer: 'wait=30' });
    expect(res.status).toBe(201);
    expect(res.headers.get('preference-applied')).toBe('wait=30');
    const g = Generation.parse(await res.json());
    expect(g.id).toBe(await worker);
    expect(g).toMatchObject({ status: 'succeeded', progress: { step: 2, steps: 2 } });
    expect(g.output.map((p) => p.type)).toEqual(['text', 'image']);
  });

  it('answers 202 as without it when the time runs out, saying the wait it applied', async () => {
    setup({ maxWaitSeconds: 1 });
    const res = await post({ Prefer: 'wait=30' });
    expect(res.status).toBe(202);
    expect(res.headers.get('preference-applied')).toBe('wait=1');
    expect(Generation.parse(await res.json()).status).toBe('queued');
    const plain = await post();
    expect(plain.status).toBe(202);
    expect(plain.headers.get('preference-applied')).toBeNull();
  });
});

describe('queue_position', () => {
  it('counts the generations waiting ahead of a queued one, and leaves it out once it runs', async () => {
    setup();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push(Generation.parse(await (await post()).json()).id);
    const position = async (id: string) => Generation.parse(await (await api.app.request(`/v1/generations/${id}`)).json()).queue_position;
    expect(await Promise.all(ids.map(position))).toEqual([0, 1, 2]);
    // A worker takes the first message: the others move up.
    const [m] = await api.deps.queue.receive({ maxMessages: 1, waitSeconds: 0 });
    await api.deps.jobs.update(JSON.parse(m!.body).jobId, (r) => ({ ...r, status: 'running' }));
    expect(await Promise.all(ids.map(position))).toEqual([undefined, 0, 1]);
  });
});

/** GET /v1/generations/{id}/events: streamed (Node) and buffered (Lambda), through the app. */
import { describe, expect, it } from 'vitest';
import { ApiErrorBody, Generation } from '../../../shared/schemas/index.js';
import { appFixture } from '../../../test/support/app.js';
import { playWorker } from '../../../test/support/play-worker.js';
import type { AppDeps } from '../../app.js';

const api = appFixture((tiny) => ({ textDecoder: tiny.decodeTo('hi', 'boi') }));
const setup = (events: AppDeps['events'] = {}) => api.setup({ events: { pollMs: 5, ...events } });

async function create(): Promise<string> {
  const res = await api.app.request('/v1/generations', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: '{"prompt":"draw"}',
  });
  expect(res.status).toBe(202);
  return Generation.parse(await res.json()).id;
}

interface Frame {
  comment?: string;
  event?: string;
  id?: string;
  data?: string;
  retry?: number;
}

function parseFrame(block: string): Frame {
  const frame: Frame = {};
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) frame.comment = line.slice(1).trim();
    else if (line.startsWith('event: ')) frame.event = line.slice(7);
    else if (line.startsWith('id: ')) frame.id = line.slice(4);
    else if (line.startsWith('data: ')) frame.data = line.slice(6);
    else if (line.startsWith('retry: ')) frame.retry = Number(line.slice(7));
  }
  return frame;
}

/** Reads frames until the stream ends, or until `stop` says enough (then cancels it). */
async function readFrames(res: Response, stop: (frames: Frame[]) => boolean = () => false): Promise<Frame[]> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  const frames: Frame[] = [];
  let buffer = '';
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += value;
    for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
      frames.push(parseFrame(buffer.slice(0, end)));
      buffer = buffer.slice(end + 2);
    }
    if (stop(frames)) {
      await reader.cancel();
      break;
    }
  }
  return frames;
}

const generations = (frames: Frame[]) =>
  frames.filter((f) => f.event === 'generation').map((f) => ({ id: f.id!, g: Generation.parse(JSON.parse(f.data!)) }));

describe('events, streamed', () => {
  it('sends the generation at every change, from queued to the final state, then ends', async () => {
    setup();
    const id = await create();
    const res = await api.app.request(`/v1/generations/${id}/events`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    // Each worker write waits until the stream has sent the state before it.
    let seen = 0;
    const frames: Frame[] = [];
    const reading = readFrames(res, (f) => {
      frames.splice(0, frames.length, ...f);
      seen = generations(f).length;
      return false;
    });
    const sent = async (n: number) => {
      while (seen < n) await new Promise((r) => setTimeout(r, 2));
    };
    await sent(1);
    let written = 1; // the queued state; before each later write, the stream has sent all so far
    await playWorker(api.deps, id, 3, async () => sent(++written));
    await reading;
    expect(frames[0]).toEqual({ retry: 1000 });
    const events = generations(frames);
    expect(events.map(({ g }) => [g.status, g.progress.step, g.queue_position])).toEqual([
      ['queued', 0, 0],
      ['running', 0, undefined],
      ['running', 1, undefined],
      ['running', 2, undefined],
      ['running', 3, undefined],
      ['succeeded', 3, undefined],
    ]);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const final = Generation.parse(await (await api.app.request(`/v1/generations/${id}`)).json());
    expect(events[events.length - 1]!.g).toEqual(final);
  });

  it('resumes after Last-Event-ID: a state the client has is not sent again; after the final one, 204', async () => {
    setup();
    const id = await create();
    const [first] = generations(
      await readFrames(await api.app.request(`/v1/generations/${id}/events`), (f) => generations(f).length === 1),
    );
    // Nothing changed: a reconnect with that id gets no event until something does.
    await api.deps.jobs.update(id, (r) => ({ ...r, status: 'running', progress: { step: 1, steps: 3 } }));
    const resumed = generations(
      await readFrames(
        await api.app.request(`/v1/generations/${id}/events`, { headers: { 'Last-Event-ID': first!.id } }),
        (f) => generations(f).length === 1,
      ),
    );
    expect(resumed.map(({ g }) => [g.status, g.progress.step])).toEqual([['running', 1]]);
    await playWorker(api.deps, id, 3);
    const rest = generations(
      await readFrames(await api.app.request(`/v1/generations/${id}/events`, { headers: { 'Last-Event-ID': resumed[0]!.id } })),
    );
    expect(rest.map(({ g }) => g.status)).toEqual(['succeeded']);
    const done = await api.app.request(`/v1/generations/${id}/events`, { headers: { 'Last-Event-ID': rest[0]!.id } });
    expect(done.status).toBe(204);
  });

  it('sends a heartbeat comment while nothing changes', async () => {
    setup({ heartbeatMs: 20 });
    const id = await create();
    // Until a heartbeat after the first event (one may come sooner on a slow machine).
    const frames = await readFrames(await api.app.request(`/v1/generations/${id}/events`), (f) =>
      f.some((x, i) => x.comment === 'heartbeat' && f.slice(0, i).some((y) => y.event === 'generation')),
    );
    expect(frames.filter((f) => f.comment === 'heartbeat').length).toBeGreaterThan(0);
    expect(generations(frames).map(({ g }) => g.status)).toEqual(['queued']);
  });

  it('is 404 for an unknown generation', async () => {
    setup();
    const res = await api.app.request('/v1/generations/gen_AAAAAAAAAAAAAAAAAAAAAA/events');
    expect([res.status, ApiErrorBody.parse(await res.json()).error.code]).toEqual([404, 'not_found']);
  });
});

describe('events, buffered (Lambda)', () => {
  it('answers with the next change and a retry hint, or the hint alone when nothing changed in time', async () => {
    setup({ mode: 'buffered', bufferedWaitMs: 50, retryMs: 1500 });
    const id = await create();
    const first = await readFrames(await api.app.request(`/v1/generations/${id}/events`));
    expect(first[0]).toEqual({ retry: 1500 });
    const [queued] = generations(first);
    expect(queued!.g).toMatchObject({ status: 'queued', queue_position: 0 });
    const idle = await readFrames(await api.app.request(`/v1/generations/${id}/events`, { headers: { 'Last-Event-ID': queued!.id } }));
    expect(idle).toEqual([{ retry: 1500 }]);
    await playWorker(api.deps, id, 2);
    const last = generations(
      await readFrames(await api.app.request(`/v1/generations/${id}/events`, { headers: { 'Last-Event-ID': queued!.id } })),
    );
    expect(last.map(({ g }) => g.status)).toEqual(['succeeded']);
    expect((await api.app.request(`/v1/generations/${id}/events`, { headers: { 'Last-Event-ID': last[0]!.id } })).status).toBe(204);
  });
});

describe('events, when the client goes away', () => {
  it('stops reading the store', async () => {
    setup();
    const id = await create();
    let reads = 0;
    const get = api.deps.jobs.get.bind(api.deps.jobs);
    api.deps.jobs.get = async (jobId: string) => {
      reads += 1;
      return get(jobId);
    };
    const res = await api.app.request(`/v1/generations/${id}/events`);
    await readFrames(res, (f) => generations(f).length === 1); // cancels the body after the first event
    const settle = () => new Promise((r) => setTimeout(r, 60)); // a dozen poll intervals
    await settle();
    const after = reads;
    await settle();
    expect(reads).toBe(after);
    expect(after).toBeGreaterThan(0);
  });
});

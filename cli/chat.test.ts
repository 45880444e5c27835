/**
 * `cli chat` against a real server on 127.0.0.1:0 (the tiny model; a stand-in decoder that
 * always asks for an image, and a stand-in worker that answers each job with two images):
 * turns read line by line, an attached image, each image saved while its answer is still
 * being made, and the history sent each turn as `messages` (the model's own images as
 * references to its generation).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../edge/app.js';
import { type RunningServer, startServer } from '../edge/server.js';
import { parseJobMessage } from '../shared/jobs/message.js';
import type { ModelRuntime } from '../shared/runtime/index.js';
import { outputImageKey, type StoredOutputPart } from '../shared/schemas/job.js';
import { type TestDeps, testDeps, tinyRuntime } from '../test/support/edge-deps.js';
import { pngBytes } from '../test/support/images.js';
import { main } from './main.js';

let runtime: ModelRuntime;
let deps: TestDeps;
let server: RunningServer | undefined;
let dir: string;
let stopWorker: (() => Promise<void>) | undefined;

beforeAll(async () => {
  runtime = await tinyRuntime();
});
afterAll(async () => {
  await runtime.close();
});
afterEach(async () => {
  await stopWorker?.();
  await server?.close();
  server = undefined;
  await deps?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const image64 = (rgb: [number, number, number]) => pngBytes(64, 64, () => [...rgb, 255]);
const imagePart = (key: string): StoredOutputPart => ({ type: 'image', key, width: 64, height: 64, mime_type: 'image/png' });

/**
 * Answers every job with an image, the text ' and', a second image: the first while the job
 * still runs, the second (and success) only once the CLI has saved the first, so a CLI that
 * saved images only at the end would never see the job finish.
 */
function twoImageWorker(saved: (jobNumber: number) => string): () => Promise<void> {
  let running = true;
  let jobs = 0;
  const loop = (async () => {
    while (running) {
      const [message] = await deps.queue.receive({ maxMessages: 1, waitSeconds: 0 });
      if (!message) {
        await new Promise((r) => setTimeout(r, 20));
        continue;
      }
      jobs += 1;
      const { jobId } = parseJobMessage(message.body);
      for (const k of [0, 1])
        await deps.store.put(outputImageKey(jobId, k), image64(k === 0 ? [200, 0, 0] : [0, 0, 200]), { contentType: 'image/png' });
      await deps.jobs.update(jobId, (r) => ({
        ...r,
        status: 'running',
        progress: { step: 2, steps: 2, image: 1, images_so_far: 1 },
        output: [...r.output, imagePart(outputImageKey(jobId, 0)), { type: 'text', text: ' and' }],
      }));
      const file = saved(jobs);
      for (let i = 0; i < 250 && running && !existsSync(file); i++) await new Promise((r) => setTimeout(r, 20));
      await deps.jobs.update(jobId, (r) => ({
        ...r,
        status: 'succeeded',
        progress: { step: 2, steps: 2, image: 1, images_so_far: 2 },
        output: [...r.output, imagePart(outputImageKey(jobId, 1))],
      }));
      await deps.queue.delete(message.receiptHandle);
    }
  })();
  return async () => {
    running = false;
    await loop;
  };
}

async function* linesOf(lines: string[]): AsyncIterable<string> {
  for (const line of lines) yield line;
}

describe('cli chat', () => {
  it('reads turns line by line, saves each image as it comes, and sends the history with every turn', async () => {
    deps = testDeps(runtime, { textDecoder: async () => ({ ids: [], text: '', stop: 'boi' }) });
    server = await startServer(createApp(deps), { host: '127.0.0.1', port: 0, apiKeys: [] });
    dir = mkdtempSync(join(tmpdir(), 'cli-chat-'));
    const out = join(dir, 'images');
    stopWorker = twoImageWorker((n) => join(out, `turn${n}-image0.png`));
    writeFileSync(join(dir, 'in.png'), image64([0, 200, 0]));
    const posted: { messages: unknown[] }[] = [];
    const created: string[] = [];
    const recording = async (input: string | URL, init?: RequestInit) => {
      const res = await fetch(input, init);
      if (init?.method === 'POST') {
        posted.push(JSON.parse(String(init.body)) as { messages: unknown[] });
        created.push(((await res.clone().json()) as { id: string }).id);
      }
      return res;
    };
    let stdout = '';
    let stderr = '';
    const code = await main(['chat', '-o', out, '--url', server.url, '--seed', '3', '--timeout', '20'], {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s), isTTY: false },
      env: {},
      fetch: recording,
      pollIntervalMs: 20,
      stdin: linesOf([
        `/image ${join(dir, 'in.png')}`,
        'make the circle blue',
        '/image missing.png',
        '/bogus',
        'now make it red',
        '/quit',
        'never sent',
      ]),
      interactive: false,
    });
    expect(code, stderr).toBe(0);
    expect(stderr).toContain(`attached ${join(dir, 'in.png')} to your next message`);
    expect(stderr).toContain('error: cannot read missing.png: ENOENT');
    expect(stderr).toContain('error: unknown command /bogus');
    for (const turn of [1, 2]) for (const k of [0, 1]) expect(stderr).toContain(`saved ${join(out, `turn${turn}-image${k}.png`)} (64x64)`);
    expect(readFileSync(join(out, 'turn2-image1.png')).equals(image64([0, 0, 200]))).toBe(true);
    expect(stdout).toBe(' and\n and\n');
    // Turn 1: the attached image then the text. Turn 2: the history, the model's images as references, then the new turn.
    expect(posted).toHaveLength(2);
    expect(posted[0]).toMatchObject({
      seed: 3,
      messages: [
        {
          role: 'user',
          content: [
            { type: 'image', url: expect.stringMatching(/^data:image\/png;base64,/) },
            { type: 'text', text: 'make the circle blue' },
          ],
        },
      ],
    });
    const history = posted[1]!.messages as { role: string; content: unknown }[];
    expect(history.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
    expect(history[0]).toEqual(posted[0]!.messages[0]);
    expect(history[1]!.content).toEqual([
      { type: 'image', generation: created[0], index: 0 },
      { type: 'text', text: ' and' },
      { type: 'image', generation: created[0], index: 1 },
    ]);
    expect(history[2]).toEqual({ role: 'user', content: 'now make it red' });
  });
});

/**
 * The CLI against a real server on 127.0.0.1:0. The draw test plays the worker itself
 * (receive, progress, PNG, succeeded) so it needs no GPU worker; describe uses the tiny model.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppDeps, createApp } from '../edge/app.js';
import { type RunningServer, startServer } from '../edge/server.js';
import { apiKeys as parseKeys } from '../shared/config/index.js';
import { parseJobMessage } from '../shared/jobs/message.js';
import { createRuntime, type ModelRuntime } from '../shared/runtime/index.js';
import { outputImageKey } from '../shared/schemas/job.js';
import { type TestDeps, TINY_DIR, testDeps, tinyRuntime } from '../test/support/edge-deps.js';
import { pngBytes } from '../test/support/images.js';
import { parseCli, UsageError } from './args.js';
import { imagePath } from './commands.js';
import { main } from './main.js';
import { progressLine } from './progress.js';

let runtime: ModelRuntime;
let deps: TestDeps;
let server: RunningServer | undefined;
let dir: string;

beforeAll(async () => {
  runtime = await tinyRuntime();
});
afterAll(async () => {
  await runtime.close();
});
afterEach(async () => {
  await server?.close();
  server = undefined;
  await deps?.cleanup();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function serve(overrides: Partial<Omit<AppDeps, 'store' | 'queue'>> = {}, keys: string[] = []): Promise<RunningServer> {
  const apiKeys = parseKeys(...keys);
  deps = testDeps(runtime, { config: { apiKeys }, ...overrides });
  server = await startServer(createApp(deps), { host: '127.0.0.1', port: 0, apiKeys });
  dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
  return server;
}

async function run(argv: string[], env: Record<string, string> = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s), isTTY: false },
    env,
    pollIntervalMs: 20,
  });
  return { code, stdout, stderr };
}

/** A stand-in worker: takes the job, reports two steps, writes a PNG, finishes. */
async function fakeWorker(): Promise<void> {
  let messages = await deps.queue.receive({ maxMessages: 1, waitSeconds: 0 });
  for (let i = 0; messages.length === 0 && i < 200; i++) {
    await new Promise((r) => setTimeout(r, 20));
    messages = await deps.queue.receive({ maxMessages: 1, waitSeconds: 0 });
  }
  const [message] = messages;
  if (!message) throw new Error('no job arrived');
  const { jobId } = parseJobMessage(message.body);
  for (const step of [1, 2]) {
    await deps.jobs.update(jobId, (r) => ({ ...r, status: 'running', progress: { step, steps: 2 } }));
    await new Promise((r) => setTimeout(r, 60));
  }
  const key = outputImageKey(jobId, 0);
  await deps.store.put(
    key,
    pngBytes(64, 64, () => [9, 8, 7, 255]),
    { contentType: 'image/png' },
  );
  await deps.jobs.update(jobId, (r) => ({
    ...r,
    status: 'succeeded',
    output: [...r.output, { type: 'image', key, width: 64, height: 64, mime_type: 'image/png' }],
  }));
  await deps.queue.delete(message.receiptHandle);
}

describe('cli draw', () => {
  it('posts the caption, shows progress, downloads the PNG (with the key)', async () => {
    const { url } = await serve({ textDecoder: async () => ({ ids: runtime.tokenizer.encode('ok'), text: 'ok', stop: 'boi' }) }, [
      'cli-key-123456',
    ]);
    const out = join(dir, 'out.png');
    const [result] = await Promise.all([
      run(['draw', 'a red circle', '-o', out, '--steps', '2', '--seed', '5', '--url', url], { API_KEY: 'cli-key-123456' }),
      fakeWorker(),
    ]);
    expect(result.stderr).toContain('step 1/2 running');
    expect(result.stderr).toContain('step 2/2 succeeded');
    expect(result.stderr).toContain(`wrote ${out} (64x64)`);
    expect(result).toMatchObject({ code: 0, stdout: 'ok\n' });
    expect(readFileSync(out).subarray(1, 4).toString()).toBe('PNG');
  });

  it('explains a refused key and an unreachable server', async () => {
    const { url, port } = await serve({}, ['cli-key-123456']);
    const refused = await run(['draw', 'x', '-o', join(dir, 'a.png'), '--url', url, '--api-key', 'wrong-key-99']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('401 unauthorized');
    await server!.close();
    const down = await run(['draw', 'x', '-o', join(dir, 'a.png'), '--url', `http://127.0.0.1:${port}`]);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/cannot reach http:\/\/127\.0\.0\.1:\d+: ECONNREFUSED/);
  });
});

describe('cli describe', () => {
  it('sends the image file and prints the answer of the tiny model', async () => {
    const { url } = await serve();
    const image = join(dir, 'in.png');
    writeFileSync(
      image,
      pngBytes(16, 16, () => [200, 0, 0, 255]),
    );
    const result = await run(['describe', image, '--max-tokens', '4', '--timeout', '1', '--url', url]);
    // The random-weight model may ask for an image, which no worker makes here: then the CLI gives up.
    const [message] = await deps.queue.receive({ maxMessages: 1, waitSeconds: 0 });
    if (message) {
      expect(result).toMatchObject({ code: 1 });
      expect(result.stderr).toContain('gave up after 1 s');
    } else {
      expect(result).toMatchObject({ code: 0, stderr: '' });
    }
  });

  it('refuses a file that is not an image, and a server 4xx is reported with its code', async () => {
    const { url } = await serve();
    const notImage = join(dir, 'x.png');
    writeFileSync(notImage, 'hello');
    const result = await run(['describe', notImage, '--url', url]);
    expect(result).toMatchObject({ code: 1 });
    expect(result.stderr).toContain('not a PNG or JPEG');
    const long = await run(['describe', join(dir, 'missing.png'), '--url', url]);
    expect(long.stderr).toContain('ENOENT');
    const tooLong = await run(['draw', 'x'.repeat(4000), '-o', join(dir, 'o.png'), '--url', url]);
    expect(tooLong.stderr).toContain('400 prompt_too_long');
  });
});

describe('cli with several models', () => {
  let styled: ModelRuntime;
  let styledDir: string;
  beforeAll(async () => {
    styledDir = mkdtempSync(join(tmpdir(), 'cli-styled-'));
    cpSync(TINY_DIR, styledDir, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(styledDir, 'manifest.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    manifest['name'] = 'tiny-styles' as never;
    manifest['conversation'] = {
      ...manifest['conversation'],
      draw_template: 'draw {caption} in {style} style',
      styles: ['flat', 'outline'],
    };
    manifest['licenses'] = [{ name: 'Art', spdx: 'CC-BY-4.0', source: 'art@1.0.0', attribution: 'Art by someone.' }] as never;
    writeFileSync(join(styledDir, 'manifest.json'), JSON.stringify(manifest));
    styled = await createRuntime(styledDir, { intraOpThreads: 1 });
  });
  afterAll(async () => {
    await styled?.close();
    rmSync(styledDir, { recursive: true, force: true });
  });

  /** Serves tiny (default) and tiny-styles; records the model and prompt of each decode, and answers without an image. */
  async function serveTwo(): Promise<{ url: string; asked: { model: string; prompt: string; images: number }[] }> {
    const asked: { model: string; prompt: string; images: number }[] = [];
    const runtimes: Record<string, ModelRuntime> = { tiny: runtime, 'tiny-styles': styled };
    deps = testDeps(
      [
        { dir: TINY_DIR, runtime },
        { dir: styledDir, runtime: styled },
      ],
      {
        textDecoder: async (model, segments) => {
          const ids = segments.flatMap((s) => (s.type === 'text' ? s.ids : []));
          asked.push({ model, prompt: runtimes[model]!.tokenizer.decode(ids), images: segments.filter((s) => s.type === 'image').length });
          return { ids: [], text: 'done', stop: 'eos' };
        },
      },
    );
    server = await startServer(createApp(deps), { host: '127.0.0.1', port: 0, apiKeys: [] });
    dir = mkdtempSync(join(tmpdir(), 'cli-test-'));
    return { url: server.url, asked };
  }

  it('lists the models with their prompts, styles and licences', async () => {
    const { url } = await serveTwo();
    const result = await run(['models', '--url', url]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('tiny (default): tiny: a text-and-image model (64 x 64 images).');
    expect(result.stdout).toContain('tiny-styles: tiny-styles: a text-and-image model');
    expect(result.stdout).toContain('  styles    flat, outline');
    expect(result.stdout).toContain('"draw <caption>", or "draw {caption} in {style} style"');
    expect(result.stdout).toContain('  licence   CC-BY-4.0: Art (art@1.0.0). Art by someone.');
  });

  it("draws with --model and --style through the model's template, and describes with its prompt", async () => {
    const { url, asked } = await serveTwo();
    const styledDraw = await run(['draw', 'snake', '--model', 'tiny-styles', '--style', 'flat', '-o', join(dir, 's.png'), '--url', url]);
    // The stand-in decoder answers text only: the CLI says no image came.
    expect(styledDraw.stderr).toContain('the model answered without drawing an image');
    const plain = await run(['draw', 'snake in outline style', '--model', 'tiny-styles', '-o', join(dir, 'p.png'), '--url', url]);
    expect(plain.code).toBe(1);
    const image = join(dir, 'in.png');
    writeFileSync(
      image,
      pngBytes(8, 8, () => [1, 2, 3, 255]),
    );
    expect(await run(['describe', image, '--model', 'tiny-styles', '--url', url])).toMatchObject({ code: 0, stdout: 'done\n' });
    await run(['draw', 'a cat', '-o', join(dir, 'c.png'), '--url', url]);
    expect(asked.map((a) => [a.model, a.prompt.replace(/<[a-z]+>/g, '').trim()])).toEqual([
      ['tiny-styles', 'draw snake in flat style'],
      ['tiny-styles', 'draw snake in outline style'],
      ['tiny-styles', 'describe the image'],
      ['tiny', 'draw a cat'],
    ]);
  });

  it("edits and restyles: the image then the instruction in one turn, restyle in the model's phrasing", async () => {
    const { url, asked } = await serveTwo();
    const image = join(dir, 'in.png');
    writeFileSync(
      image,
      pngBytes(8, 8, () => [1, 2, 3, 255]),
    );
    // The stand-in decoder answers text only: the CLI says no image came, after sending the request.
    const edited = await run(['edit', image, 'make the circle blue', '-o', join(dir, 'e.png'), '--url', url]);
    expect(edited).toMatchObject({ code: 1, stdout: 'done\n' });
    expect(edited.stderr).toContain('the model answered without an image');
    await run(['restyle', image, '--style', 'outline', '--model', 'tiny-styles', '-o', join(dir, 'r.png'), '--url', url]);
    const refused = await run(['restyle', image, '--style', 'pixel', '--model', 'tiny-styles', '-o', join(dir, 'r.png'), '--url', url]);
    expect(refused.stderr).toContain('the model knows the styles flat, outline, not "pixel"');
    expect(asked.map((a) => [a.model, a.images, a.prompt.replace(/<[a-z]+>/g, '').trim()])).toEqual([
      ['tiny', 1, 'make the circle blue'],
      ['tiny-styles', 1, 'draw this in outline style'],
    ]);
  });

  it('refuses a style the model does not know, and a model the server does not serve, before sending anything', async () => {
    const { url, asked } = await serveTwo();
    const unknownStyle = await run(['draw', 'snake', '--model', 'tiny-styles', '--style', 'pixel', '-o', join(dir, 'a.png'), '--url', url]);
    expect(unknownStyle).toMatchObject({ code: 1 });
    expect(unknownStyle.stderr).toContain('the model knows the styles flat, outline, not "pixel"');
    const noStyles = await run(['draw', 'snake', '--style', 'flat', '-o', join(dir, 'a.png'), '--url', url]);
    expect(noStyles.stderr).toContain('this model takes no style');
    const unknownModel = await run(['draw', 'snake', '--model', 'emoji64', '-o', join(dir, 'a.png'), '--url', url]);
    expect(unknownModel.stderr).toContain('unknown model emoji64; the server serves: tiny, tiny-styles');
    expect(asked).toEqual([]);
  });
});

describe('cli arguments', () => {
  it('parses options and validates them with the API limits', () => {
    expect(parseCli(['draw', 'a cat', '-o', 'x.png', '--steps', '10', '--guidance', '2.5'], {})).toMatchObject({
      command: 'draw',
      caption: 'a cat',
      output: 'x.png',
      steps: 10,
      guidance: 2.5,
      url: 'http://127.0.0.1:3000',
    });
    expect(parseCli(['describe', 'a.jpg'], { API_URL: 'http://h:1', API_KEY: 'k' })).toMatchObject({ url: 'http://h:1', apiKey: 'k' });
    expect(parseCli(['--help'], {})).toBe('help');
    expect(() => parseCli(['draw', 'a cat'], {})).toThrow(/-o/);
    expect(() => parseCli(['draw', 'a', '-o', 'x', '--steps', '500'], {})).toThrow(/--steps/);
    expect(() => parseCli(['paint', 'x'], {})).toThrow(UsageError);
    expect(() => parseCli(['draw', 'a', '--bogus'], {})).toThrow(UsageError);
  });

  it('parses --model, --style and the models command', () => {
    expect(parseCli(['draw', 'snake', '-o', 's.png', '--model', 'emoji64', '--style', 'twitter'], {})).toMatchObject({
      command: 'draw',
      caption: 'snake',
      model: 'emoji64',
      style: 'twitter',
    });
    expect(parseCli(['describe', 'a.png', '--model', 'shapes64'], {})).toMatchObject({ command: 'describe', model: 'shapes64' });
    expect((parseCli(['draw', 'snake', '-o', 's.png'], {}) as { model?: string }).model).toBeUndefined();
    expect(parseCli(['models', '--url', 'http://h:2'], { API_KEY: 'k' })).toEqual({ command: 'models', url: 'http://h:2', apiKey: 'k' });
    expect(() => parseCli(['draw', 'a', '-o', 'x', '--model', 'no spaces allowed'], {})).toThrow(/--model: expected a model name/);
    expect(() => parseCli(['draw', 'a', '-o', 'x', '--model', ''], {})).toThrow(/--model/);
    expect(() => parseCli(['describe', 'a.png', '--style', 'flat'], {})).toThrow(/only draw and restyle take a style/);
    expect(() => parseCli(['models', 'extra'], {})).toThrow(/unexpected arguments: extra/);
  });

  it('parses edit, restyle and chat', () => {
    expect(parseCli(['edit', 'in.png', 'make the circle blue', '-o', 'out.png', '--seed', '2'], {})).toMatchObject({
      command: 'edit',
      image: 'in.png',
      instruction: 'make the circle blue',
      output: 'out.png',
      seed: 2,
    });
    expect(parseCli(['restyle', 'in.png', '--style', 'twitter', '-o', 'out.png', '--model', 'emoji64'], {})).toMatchObject({
      command: 'restyle',
      image: 'in.png',
      style: 'twitter',
      model: 'emoji64',
    });
    expect(parseCli(['chat'], {})).toMatchObject({ command: 'chat', output: '.' });
    expect(parseCli(['chat', '-o', 'pics', '--temperature', '1'], {})).toMatchObject({ command: 'chat', output: 'pics', temperature: 1 });
    expect(() => parseCli(['edit', 'in.png', '-o', 'o.png'], {})).toThrow(/--instruction: edit needs an instruction/);
    expect(() => parseCli(['edit', 'in.png', 'make', 'it', 'blue', '-o', 'o.png'], {})).toThrow(
      /unexpected arguments: it blue \(quote the instruction\)/,
    );
    expect(() => parseCli(['edit', 'in.png', 'x'], {})).toThrow(/-o/);
    expect(() => parseCli(['restyle', 'in.png', '-o', 'o.png'], {})).toThrow(/--style: restyle needs --style/);
    expect(() => parseCli(['chat', 'hello'], {})).toThrow(/unexpected arguments: hello/);
    expect(() => parseCli(['chat', '--style', 'flat'], {})).toThrow(/only draw and restyle take a style/);
  });

  it('exits 2 on bad usage', async () => {
    const result = await run(['draw']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('usage:');
  });

  it('names extra images and draws the bar', () => {
    expect(imagePath('out.png', 0)).toBe('out.png');
    expect(imagePath('out.png', 2)).toBe('out-2.png');
    expect(progressLine({ status: 'running', progress: { step: 5, steps: 10 } })).toBe(
      `[${'#'.repeat(12)}${'-'.repeat(12)}] step 5/10 running`,
    );
    expect(progressLine({ status: 'running', progress: { step: 5, steps: 10, image: 0 } })).toBe(
      `[${'#'.repeat(12)}${'-'.repeat(12)}] step 5/10 running`,
    );
    expect(progressLine({ status: 'running', progress: { step: 2, steps: 4, image: 1 } })).toBe(
      `[${'#'.repeat(12)}${'-'.repeat(12)}] image 2 step 2/4 running`,
    );
  });
});

/**
 * The official `openai` npm client against a running server (the edge on loopback and a
 * worker process, the tiny model): images as URLs and base64, chat with an image, streaming,
 * the model list, and errors raised as the client's own typed errors.
 */
import OpenAI from 'openai';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { dataUrl, pngBytes } from '../support/images.js';
import { openAiServer } from './server.js';

const server = openAiServer();

const model = () => server.edge.deps.models.default.manifest.name!;
const size = () => server.edge.deps.models.default.manifest.image;

describe('the official openai client', () => {
  it('lists the models', async () => {
    const page = await server.client.models.list();
    expect(page.data.map((m) => m.id)).toEqual([model()]);
    expect(page.data[0]).toMatchObject({ object: 'model', owned_by: expect.any(String) });
    expect((await server.client.models.retrieve(model())).id).toBe(model());
  });

  it('makes images as URLs and as base64 PNGs', async () => {
    const { width, height } = size();
    const byUrl = await server.client.images.generate({
      prompt: 'a red circle at the top left',
      n: 2,
      size: `${width}x${height}` as '256x256',
      response_format: 'url',
      model: model(),
    });
    expect(byUrl.data).toHaveLength(2);
    for (const image of byUrl.data!) {
      expect(image.revised_prompt).toBe('draw a red circle at the top left');
      const res = await fetch(image.url!);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/png');
      const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
      expect([png.width, png.height]).toEqual([width, height]);
    }
    const byB64 = await server.client.images.generate({ prompt: 'a blue square', response_format: 'b64_json' });
    expect(byB64.data).toHaveLength(1);
    const png = PNG.sync.read(Buffer.from(byB64.data![0]!.b64_json!, 'base64'));
    expect([png.width, png.height]).toEqual([width, height]);
  });

  it('answers a chat with an image, whole and streamed alike', async () => {
    const image = dataUrl(
      'image/png',
      pngBytes(40, 40, (x, y) => (x < 20 && y < 20 ? [220, 30, 30, 255] : [255, 255, 255, 255])),
    );
    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      {
        role: 'user',
        content: [
          { type: 'image_url', image_url: { url: image } },
          { type: 'text', text: 'describe the image' },
        ],
      },
    ];
    const whole = await server.client.chat.completions.create({ model: model(), messages, max_tokens: 10, seed: 4 });
    expect(whole.object).toBe('chat.completion');
    expect(typeof whole.choices[0]!.message.content).toBe('string');
    expect(whole.usage!.prompt_tokens).toBeGreaterThan(size().num_patches);

    const stream = await server.client.chat.completions.create({
      model: model(),
      messages,
      max_tokens: 10,
      seed: 4,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let finish: string | null = null;
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        text += choice.delta.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
      usage = chunk.usage ?? usage;
    }
    expect(text).toBe(whole.choices[0]!.message.content);
    expect(finish).toBe(whole.choices[0]!.finish_reason);
    expect(usage).toEqual(whole.usage);
  });

  it('raises its own typed errors', async () => {
    const tooMany = await server.client.images.generate({ prompt: 'a red circle', n: 9 }).catch((e: unknown) => e);
    expect(tooMany).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tooMany as InstanceType<typeof OpenAI.BadRequestError>).param).toBe('n');
    const unknown = await server.client.chat.completions
      .create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect((unknown as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('model_not_found');
  });
});

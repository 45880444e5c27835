/**
 * Two-turn conversations through the official `openai` npm client against a running server
 * (the edge on loopback and a worker process, the tiny model): the first turn's image comes
 * from images.generate or from a chat answer, the second turn's chat sends the whole history
 * back with that image as a markdown link in the assistant's message (docs/openai.md), and
 * the server reads it.
 */
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { conversationContext, type Segment } from '../../shared/runtime/index.js';
import { openAiServer } from './server.js';

const server = openAiServer();

/** The context's length for these turns, every image counted as the model's patches. */
function positionsOf(turns: { role: 'user' | 'assistant'; content: (string | 'IMAGE')[] }[]): number {
  const model = server.edge.deps.models.default;
  const { num_patches, patch_dim } = model.manifest.image;
  const image: Segment = { type: 'image', patches: new Float32Array(num_patches * patch_dim) };
  const context = conversationContext(
    model.tokenizer,
    turns.map((t) => ({ role: t.role, content: t.content.map((c) => (c === 'IMAGE' ? image : c)) })),
  );
  return context.reduce((n, s) => n + (s.type === 'text' ? s.ids.length : num_patches), 0);
}

describe('a two-turn conversation with the official openai client', () => {
  it('draws, then answers a follow-up that reads the drawing back from the history', async () => {
    const drawn = await server.client.images.generate({ prompt: 'a red circle at the top left', response_format: 'url' });
    const url = drawn.data![0]!.url!;
    expect(url).toMatch(/\/outputs\/gen_[A-Za-z0-9_-]+\/0\.png/);

    const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
      { role: 'system', content: 'not read' },
      { role: 'user', content: 'draw a red circle at the top left' },
      { role: 'assistant', content: `![image 1](${url})` },
      { role: 'user', content: 'make the circle blue' },
    ];
    const answer = await server.client.chat.completions.create({
      model: server.edge.deps.models.default.name,
      messages,
      max_tokens: 8,
      seed: 3,
    });
    expect(answer.object).toBe('chat.completion');
    expect(typeof answer.choices[0]!.message.content).toBe('string');
    // The prompt is the whole history: both user turns and the drawing's patches.
    expect(answer.usage!.prompt_tokens).toBe(
      positionsOf([
        { role: 'user', content: ['draw a red circle at the top left'] },
        { role: 'assistant', content: ['IMAGE'] },
        { role: 'user', content: ['make the circle blue'] },
      ]),
    );

    // A link to a generation that is not the caller's (here: none) is the client's NotFoundError.
    const unknown = url.replace(/gen_[A-Za-z0-9_-]+/, 'gen_doesnotexist');
    const missing = await server.client.chat.completions
      .create({
        model: server.edge.deps.models.default.name,
        messages: [messages[1]!, { role: 'assistant', content: `![image 1](${unknown})` }, messages[3]!],
        max_tokens: 2,
      })
      .catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('not_found');
  });

  it('draws in a chat (the image as a markdown link), then edits it in the next turn from the answer sent back as it came', async () => {
    const model = server.edge.deps.models.default.name;
    const first: OpenAI.Chat.ChatCompletionMessageParam = { role: 'user', content: 'draw a red circle at the top left' };
    // The fixture answers a draw prompt with an image by itself: the request waits for the worker to make it.
    const drawn = await server.client.chat.completions.create({ model, messages: [first], max_tokens: 8, seed: 5 });
    const content = drawn.choices[0]!.message.content!;
    const link = /!\[image 1\]\((http[^)]+\/outputs\/gen_[A-Za-z0-9_-]+\/0\.png[^)]*)\)/.exec(content);
    expect(link, content).not.toBeNull();
    const png = await fetch(link![1]!);
    expect(png.headers.get('content-type')).toBe('image/png');

    const followUp = await server.client.chat.completions.create({
      model,
      messages: [first, { role: 'assistant', content }, { role: 'user', content: 'make the circle blue' }],
      max_tokens: 8,
      seed: 5,
    });
    expect(typeof followUp.choices[0]!.message.content).toBe('string');
    const before = content.slice(0, link!.index);
    const after = content.slice(link!.index + link![0].length);
    expect(followUp.usage!.prompt_tokens).toBe(
      positionsOf([
        { role: 'user', content: ['draw a red circle at the top left'] },
        { role: 'assistant', content: [before, 'IMAGE', after] },
        { role: 'user', content: ['make the circle blue'] },
      ]),
    );
  });
});

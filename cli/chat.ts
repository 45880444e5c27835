/**
 * `cli chat`: a conversation on the terminal. Each line is a user turn; `/image PATH`
 * attaches an image to the next one. Every turn sends the whole history to
 * POST /v1/generations as `messages`: the user's images as data URLs, the model's own
 * earlier images as references to its generations ({generation, index}), so they are read
 * again exactly as they were stored. The answer is shown as it comes: its text on stdout,
 * each image saved in the output folder as soon as it is in the generation.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isTerminal } from '../shared/jobs/status.js';
import type { Message, MessagePart } from '../shared/schemas/conversation.js';
import type { Generation } from '../shared/schemas/generation.js';
import type { CliArgs } from './args.js';
import { type ApiClient, CliError } from './client.js';
import { type CommandIO, imageDataUrl, pollAgain, samplingOf, succeeded } from './commands.js';
import { ProgressReporter } from './progress.js';

export interface ChatInput {
  /** The lines the user types, in order; the conversation ends with them. */
  lines: AsyncIterable<string>;
  /** A terminal: show a prompt before each line. */
  interactive: boolean;
}

const HELP = `type a message and press enter; the model answers it with the conversation so far.
  /image PATH   attach an image (PNG or JPEG) to your next message
  /help         this text
  /quit         end (so does the end of input)`;

type ChatArgs = Extract<CliArgs, { command: 'chat' }>;

export async function chat(client: ApiClient, args: ChatArgs, io: CommandIO, input: ChatInput): Promise<void> {
  await mkdir(args.output, { recursive: true });
  const history: Message[] = [];
  let attached: string[] = [];
  let turn = 0;
  if (input.interactive) io.stderr.write(`${HELP}\n`);
  const ask = () => {
    if (input.interactive) io.stderr.write('you> ');
  };
  ask();
  for await (const raw of input.lines) {
    const line = raw.trim();
    if (line === '/quit' || line === '/exit') break;
    try {
      if (line === '' || line === '/help') {
        if (line === '/help') io.stderr.write(`${HELP}\n`);
      } else if (line.startsWith('/image')) {
        const path = line.slice('/image'.length).trim();
        if (!path) throw new CliError('/image needs a file: /image photo.png');
        attached.push(await imageDataUrl(path));
        io.stderr.write(`attached ${path} to your next message\n`);
      } else if (line.startsWith('/')) {
        throw new CliError(`unknown command ${line.split(/\s/)[0]}; /help lists them`);
      } else {
        turn += 1;
        const user: Message = {
          role: 'user',
          content:
            attached.length > 0 ? [...attached.map((url): MessagePart => ({ type: 'image', url })), { type: 'text', text: line }] : line,
        };
        const answer = await answerTurn(client, args, io, [...history, user], turn);
        // The turn joins the history only once answered; a refused one can be typed again.
        history.push(user, answer);
        attached = [];
      }
    } catch (err) {
      if (!(err instanceof CliError)) throw err;
      io.stderr.write(`error: ${err.message}\n`);
    }
    ask();
  }
}

/** Sends the conversation, shows the answer as it comes, and returns it as the assistant's message. */
async function answerTurn(client: ApiClient, args: ChatArgs, io: CommandIO, messages: Message[], turn: number): Promise<Message> {
  const created = await client.create({ messages, ...samplingOf(args) });
  const g = await follow(client, created, io, args.timeout, async (part, index) => {
    if (part.type === 'text') {
      io.stdout.write(`${part.text}\n`);
      return;
    }
    const path = join(args.output, `turn${turn}-image${index}.png`);
    await writeFile(path, await client.download(part.url));
    io.stderr.write(`saved ${path} (${part.width}x${part.height})\n`);
  });
  let k = 0;
  const content = g.output.map(
    (part): MessagePart => (part.type === 'text' ? { type: 'text', text: part.text } : { type: 'image', generation: g.id, index: k++ }),
  );
  // An empty answer still takes its place in the alternation of turns.
  return { role: 'assistant', content: content.length > 0 ? content : [{ type: 'text', text: '' }] };
}

/**
 * Polls until the generation is terminal, handing over each output part once, in order, as
 * soon as it is there (a worker adds each image of an answer as it makes it).
 */
async function follow(
  client: ApiClient,
  first: Generation,
  io: CommandIO,
  timeoutSeconds: number,
  onPart: (part: Generation['output'][number], imageIndex: number) => Promise<void>,
): Promise<Generation> {
  const progress = new ProgressReporter(io.stderr);
  const deadline = Date.now() + timeoutSeconds * 1000;
  let shown = 0;
  let images = 0;
  let g = first;
  try {
    for (;;) {
      if (g.output.length > shown) progress.done();
      for (const part of g.output.slice(shown)) {
        await onPart(part, part.type === 'image' ? images++ : images);
        shown += 1;
      }
      if (isTerminal(g.status)) break;
      progress.update(g);
      g = await pollAgain(client, g, io, deadline, timeoutSeconds);
    }
  } finally {
    progress.done();
  }
  return succeeded(g);
}

/** draw and describe: send the request, wait for the generation with progress, write the results. */
import { readFile, writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { isTerminal } from '../shared/jobs/status.js';
import { type ConversationPrompts, DEFAULT_PROMPTS, drawPromptFor } from '../shared/runtime/template.js';
import type { CreateGenerationRequest, Generation } from '../shared/schemas/generation.js';
import type { ModelObject } from '../shared/schemas/models.js';
import type { CliArgs } from './args.js';
import { type ApiClient, CliError } from './client.js';
import { ProgressReporter, type ProgressStream } from './progress.js';

export interface CommandIO {
  stdout: { write(text: string): unknown };
  stderr: ProgressStream;
  sleep: (ms: number) => Promise<void>;
  pollIntervalMs: number;
}

type GenerateArgs = Extract<CliArgs, { command: 'draw' | 'describe' | 'edit' | 'restyle' | 'chat' }>;

export function samplingOf(args: GenerateArgs): Omit<CreateGenerationRequest, 'prompt' | 'images' | 'messages'> {
  return {
    ...(args.model !== undefined ? { model: args.model } : {}),
    ...(args.steps !== undefined ? { steps: args.steps } : {}),
    ...(args.guidance !== undefined ? { guidance: args.guidance } : {}),
    ...(args.seed !== undefined ? { seed: args.seed } : {}),
    ...(args.maxTokens !== undefined ? { max_tokens: args.maxTokens } : {}),
    ...(args.temperature !== undefined ? { temperature: args.temperature } : {}),
  };
}

/** Polls until the generation is terminal, drawing progress on stderr. */
export async function waitFor(client: ApiClient, first: Generation, io: CommandIO, timeoutSeconds: number): Promise<Generation> {
  const progress = new ProgressReporter(io.stderr);
  const deadline = Date.now() + timeoutSeconds * 1000;
  let g = first;
  try {
    while (!isTerminal(g.status)) {
      progress.update(g);
      g = await pollAgain(client, g, io, deadline, timeoutSeconds);
    }
    if (g.progress.steps > 0) progress.update(g);
  } finally {
    progress.done();
  }
  return succeeded(g);
}

/** One more poll of a generation that is not terminal yet: gives up past the deadline, else waits and fetches it again. */
export async function pollAgain(
  client: ApiClient,
  g: Generation,
  io: CommandIO,
  deadline: number,
  timeoutSeconds: number,
): Promise<Generation> {
  if (Date.now() > deadline) throw new CliError(`gave up after ${timeoutSeconds} s; the generation ${g.id} is still ${g.status}`);
  await io.sleep(io.pollIntervalMs);
  return client.get(g.id);
}

/** A terminal generation, or the CliError that says why it did not succeed. */
export function succeeded(g: Generation): Generation {
  if (g.status === 'failed')
    throw new CliError(`generation ${g.id} failed: ${g.error ? `${g.error.code}: ${g.error.message}` : 'no reason given'}`);
  if (g.status === 'canceled') throw new CliError(`generation ${g.id} was canceled`);
  return g;
}

export function printText(g: Generation, io: CommandIO): void {
  for (const part of g.output) if (part.type === 'text' && part.text.length > 0) io.stdout.write(`${part.text}\n`);
}

/** out.png for the first image, out-1.png, out-2.png, ... for the next. */
export function imagePath(output: string, k: number): string {
  if (k === 0) return output;
  const ext = extname(output);
  return `${output.slice(0, output.length - ext.length)}-${k}${ext || '.png'}`;
}

export async function saveImages(client: ApiClient, g: Generation, output: string, io: CommandIO): Promise<number> {
  const images = g.output.filter((p) => p.type === 'image');
  for (const [k, part] of images.entries()) {
    const path = imagePath(output, k);
    await writeFile(path, await client.download(part.url));
    io.stderr.write(`wrote ${path} (${part.width}x${part.height})\n`);
  }
  return images.length;
}

/** The model's prompts, from GET /v1/models: the named model's, else the server's default. */
export async function promptsFor(client: ApiClient, model: string | undefined): Promise<ConversationPrompts> {
  const list = await client.models();
  const found = model === undefined ? list.data.find((m) => m.default) : list.data.find((m) => m.id === model);
  if (!found) throw new CliError(`unknown model ${model ?? '(no default)'}; the server serves: ${list.data.map((m) => m.id).join(', ')}`);
  return found.prompts;
}

/** The model's draw prompt: `draw <caption>`, or its template with a style (a caption already starting with the prefix is sent as is). */
export function drawPrompt(caption: string, prompts: ConversationPrompts = DEFAULT_PROMPTS, style?: string): string {
  if (style !== undefined) {
    if (prompts.draw_template === undefined)
      throw new CliError('--style: this model takes no style (GET /v1/models shows no draw_template for it)');
    if (prompts.styles && !prompts.styles.includes(style)) {
      throw new CliError(
        `--style: the model knows the styles ${prompts.styles.join(', ')}, not ${JSON.stringify(style)} (to send it anyway, write the whole prompt as the caption)`,
      );
    }
    return drawPromptFor(prompts, caption, style);
  }
  const prefix = prompts.draw_prefix;
  return caption.toLowerCase().startsWith(prefix.toLowerCase()) ? caption : drawPromptFor(prompts, caption);
}

export async function draw(client: ApiClient, args: Extract<CliArgs, { command: 'draw' }>, io: CommandIO): Promise<void> {
  const prompts = await promptsFor(client, args.model);
  const created = await client.create({ prompt: drawPrompt(args.caption, prompts, args.style), ...samplingOf(args) });
  io.stderr.write(`generation ${created.id}: ${created.status}\n`);
  const g = await waitFor(client, created, io, args.timeout);
  printText(g, io);
  if ((await saveImages(client, g, args.output, io)) === 0) throw new CliError('the model answered without drawing an image');
}

/** An image file as the data URL the API takes (PNG or JPEG, told from its bytes). */
export async function imageDataUrl(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new CliError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const mime = mimeOf(bytes);
  if (!mime) throw new CliError(`${path} is not a PNG or JPEG file`);
  return `data:${mime};base64,${bytes.toString('base64')}`;
}

export async function describe(client: ApiClient, args: Extract<CliArgs, { command: 'describe' }>, io: CommandIO): Promise<void> {
  const image = await imageDataUrl(args.image);
  const prompt = args.prompt ?? (await promptsFor(client, args.model)).describe_prompt;
  const created = await client.create({ prompt, images: [image], ...samplingOf(args) });
  const g = await waitFor(client, created, io, args.timeout);
  printText(g, io);
  if (args.output) await saveImages(client, g, args.output, io);
}

/** `cli models`: one block per model, the default marked, with what to prompt it with and its licences. */
export async function models(client: ApiClient, io: CommandIO): Promise<void> {
  const list = await client.models();
  io.stdout.write(list.data.map(describeModel).join('\n'));
}

export function describeModel(m: ModelObject): string {
  const lines = [`${m.id}${m.default ? ' (default)' : ''}: ${m.description}`, `  images    ${m.image.width} x ${m.image.height}`];
  lines.push(
    `  draw      ${JSON.stringify(`${m.prompts.draw_prefix}<caption>`)}${m.prompts.draw_template ? `, or ${JSON.stringify(m.prompts.draw_template)}` : ''}`,
  );
  if (m.prompts.styles) lines.push(`  styles    ${m.prompts.styles.join(', ')}`);
  lines.push(`  tasks     ${m.tasks.join(', ')}`);
  lines.push(`  sampling  ${samplingLine(m.sampling)}`);
  lines.push(`  describe  ${JSON.stringify(m.prompts.describe_prompt)} after an image`);
  for (const l of m.licenses) lines.push(`  licence   ${l.spdx}: ${l.name} (${l.source})${l.attribution ? `. ${l.attribution}` : ''}`);
  return `${lines.join('\n')}\n`;
}

/** "1 or 2 steps (default 1), guidance fixed at 6": what --steps and --guidance the model takes. */
export function samplingLine(s: ModelObject['sampling']): string {
  const list = s.supported_steps;
  const steps = !list
    ? `1 to ${s.max_steps}`
    : list.length === 1
      ? String(list[0])
      : `${list.slice(0, -1).join(', ')} or ${list[list.length - 1]}`;
  const bySteps = Object.entries(s.guidance_by_steps ?? {}).map(([steps, g]) => `; ${g} at ${steps} ${steps === '1' ? 'step' : 'steps'}`);
  const guidance =
    s.guidance === 'fixed'
      ? `guidance fixed at ${s.default_guidance}`
      : `guidance adjustable (default ${s.default_guidance}${bySteps.join('')})`;
  return `${steps} steps (default ${s.default_steps}), ${guidance}`;
}

function mimeOf(bytes: Uint8Array): 'image/png' | 'image/jpeg' | null {
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) return 'image/png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'image/jpeg';
  return null;
}

/**
 * edit and restyle: an image and an instruction as one user turn (the image first, as a
 * describe has it), the answer's images written like draw's. restyle's instruction is
 * `draw this in {style} style`, the phrasing the models are taught.
 */
import type { CliArgs } from './args.js';
import { type ApiClient, CliError } from './client.js';
import { type CommandIO, imageDataUrl, printText, promptsFor, samplingOf, saveImages, waitFor } from './commands.js';

/** The restyle instruction for a style. */
export function restylePrompt(style: string): string {
  return `draw this in ${style} style`;
}

export async function edit(client: ApiClient, args: Extract<CliArgs, { command: 'edit' }>, io: CommandIO): Promise<void> {
  await changeImage(client, args, args.instruction, io);
}

export async function restyle(client: ApiClient, args: Extract<CliArgs, { command: 'restyle' }>, io: CommandIO): Promise<void> {
  const { styles } = await promptsFor(client, args.model);
  // A model that lists its styles is held to them; one that lists none gets the style as written.
  if (styles && !styles.includes(args.style))
    throw new CliError(`--style: the model knows the styles ${styles.join(', ')}, not ${JSON.stringify(args.style)}`);
  await changeImage(client, args, restylePrompt(args.style), io);
}

async function changeImage(
  client: ApiClient,
  args: Extract<CliArgs, { command: 'edit' | 'restyle' }>,
  prompt: string,
  io: CommandIO,
): Promise<void> {
  const image = await imageDataUrl(args.image);
  const created = await client.create({ prompt, images: [image], ...samplingOf(args) });
  io.stderr.write(`generation ${created.id}: ${created.status}\n`);
  const g = await waitFor(client, created, io, args.timeout);
  printText(g, io);
  if ((await saveImages(client, g, args.output, io)) === 0)
    throw new CliError(
      'the model answered without an image (it may not have been trained to change images: `cli models` lists what it does)',
    );
}

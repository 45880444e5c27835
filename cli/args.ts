/** The command line, parsed with node:util and checked with zod (the request limits are the API's own). */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { LIMITS } from '../shared/schemas/generation.js';
import { MODEL_NAME } from '../shared/schemas/models.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `usage:
  cli draw "<caption>" -o out.png [--model NAME] [--style STYLE] [--steps N] [--guidance G] [--seed S]
  cli describe <image.png|image.jpg> [--model NAME] [--prompt "..."]
  cli edit <image> "<instruction>" -o out.png [--model NAME]   e.g. "make the circle blue"
  cli restyle <image> --style STYLE -o out.png [--model NAME]  asks "draw this in STYLE style"
  cli chat [-o DIR] [--model NAME]   a conversation: one turn a line; /image PATH attaches an
                                     image to your next turn; the answers' images are saved
                                     in DIR as they come; /quit (or end of input) ends it
  cli models                    the models the server serves, their styles and licences

options:
  --url URL           API base URL (default $API_URL or http://127.0.0.1:3000)
  --api-key KEY       bearer key (default $API_KEY)
  --model NAME        the model (\`cli models\` lists them; default: the server's default)
  --style STYLE       draw: a style the model knows (its draw template, e.g. "draw snake in twitter style");
                      restyle: the style to redraw the image in
  -o, --output FILE   where draw, edit and restyle write the image (more images: FILE-1.png, ...);
                      chat: the folder for the answers' images (default: the current one)
  --steps N           denoising steps (1-100)
  --guidance G        guidance scale (0-20)
  --seed S            seed (integer >= 0)
  --max-tokens N      text token budget (1-1024)
  --temperature T     text sampling temperature (0-2)
  --prompt TEXT       describe: the question (default: the model's describe prompt)
  --timeout SECONDS   give up waiting after this long (default 600)
  -h, --help          this text`;

const num = (schema: z.ZodNumber) =>
  z
    .string()
    .regex(/^-?\d+(\.\d+)?$/, 'expected a number')
    .transform(Number)
    .pipe(schema);

const Connection = z.object({
  url: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL' }),
  apiKey: z.string().min(1).optional(),
});

const Common = Connection.extend({
  model: z.string().regex(MODEL_NAME, 'expected a model name (letters, digits, ".", "_", "-")').optional(),
  steps: num(z.number().int().min(LIMITS.steps.min).max(LIMITS.steps.max)).optional(),
  guidance: num(z.number().min(LIMITS.guidance.min).max(LIMITS.guidance.max)).optional(),
  seed: num(z.number().int().min(0).max(LIMITS.seedMax)).optional(),
  maxTokens: num(z.number().int().min(LIMITS.maxTokens.min).max(LIMITS.maxTokens.max)).optional(),
  temperature: num(z.number().min(LIMITS.temperature.min).max(LIMITS.temperature.max)).optional(),
  timeout: num(z.number().positive()).default(600),
});

const Draw = Common.extend({
  command: z.literal('draw'),
  caption: z.string().min(1, 'draw needs a caption'),
  output: z.string().min(1, 'draw needs -o <file.png>'),
  style: z.string().min(1).optional(),
});

const Describe = Common.extend({
  command: z.literal('describe'),
  image: z.string().min(1, 'describe needs an image file'),
  prompt: z.string().min(1).optional(),
  output: z.string().min(1).optional(),
});

const Edit = Common.extend({
  command: z.literal('edit'),
  image: z.string().min(1, 'edit needs an image file'),
  instruction: z.string().min(1, 'edit needs an instruction, e.g. "make the circle blue"'),
  output: z.string().min(1, 'edit needs -o <file.png>'),
});

const Restyle = Common.extend({
  command: z.literal('restyle'),
  image: z.string().min(1, 'restyle needs an image file'),
  style: z.string({ error: 'restyle needs --style STYLE' }).min(1, 'restyle needs --style STYLE'),
  output: z.string().min(1, 'restyle needs -o <file.png>'),
});

const Chat = Common.extend({
  command: z.literal('chat'),
  /** The folder the answers' images are saved in. */
  output: z.string().min(1).default('.'),
});

const Models = Connection.extend({ command: z.literal('models') });

export const CliArgs = z.discriminatedUnion('command', [Draw, Describe, Edit, Restyle, Chat, Models]);
export type CliArgs = z.infer<typeof CliArgs>;

/** The parsed command, 'help', or a UsageError. */
export function parseCli(argv: readonly string[], env: Record<string, string | undefined>): CliArgs | 'help' {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  if (values.help || positionals.length === 0) return 'help';
  const [command, subject, ...rest] = positionals;
  if (!isCommand(command)) throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  // edit takes the image and its instruction; every other command one subject at most.
  const [instruction, ...extra] = command === 'edit' ? rest : [undefined, ...rest];
  if (extra.length > 0)
    throw new UsageError(`unexpected arguments: ${extra.join(' ')} (quote the ${command === 'edit' ? 'instruction' : 'caption'})`);
  const connection = {
    url: values.url ?? env['API_URL'] ?? 'http://127.0.0.1:3000',
    apiKey: values['api-key'] ?? (env['API_KEY'] || undefined),
  };
  if (command === 'models' || command === 'chat') {
    if (subject !== undefined) throw new UsageError(`unexpected arguments: ${subject}`);
  }
  if (command === 'models') return validated({ command, ...connection });
  if (values.style !== undefined && command !== 'draw' && command !== 'restyle')
    throw new UsageError('--style: only draw and restyle take a style');
  const raw = {
    command,
    ...(command === 'draw' ? { caption: subject ?? '' } : command === 'chat' ? {} : { image: subject ?? '' }),
    ...(command === 'edit' ? { instruction: instruction ?? '' } : {}),
    ...connection,
    model: values.model,
    style: values.style,
    output: values.output ?? (command === 'draw' || command === 'edit' || command === 'restyle' ? '' : undefined),
    prompt: values.prompt,
    steps: values.steps,
    guidance: values.guidance,
    seed: values.seed,
    maxTokens: values['max-tokens'],
    temperature: values.temperature,
    timeout: values.timeout,
  };
  return validated(raw);
}

const COMMANDS = ['draw', 'describe', 'edit', 'restyle', 'chat', 'models'] as const;
function isCommand(command: string | undefined): command is (typeof COMMANDS)[number] {
  return (COMMANDS as readonly (string | undefined)[]).includes(command);
}

function validated(raw: Record<string, unknown>): CliArgs {
  const result = CliArgs.safeParse(raw);
  if (!result.success) {
    throw new UsageError(
      result.error.issues
        .map((i) => `${i.path.length ? `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ` : ''}${i.message}`)
        .join('\n'),
    );
  }
  return result.data;
}

function parseOptions(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    allowPositionals: true,
    strict: true,
    options: {
      url: { type: 'string' },
      'api-key': { type: 'string' },
      model: { type: 'string' },
      style: { type: 'string' },
      output: { type: 'string', short: 'o' },
      prompt: { type: 'string' },
      steps: { type: 'string' },
      guidance: { type: 'string' },
      seed: { type: 'string' },
      'max-tokens': { type: 'string' },
      temperature: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

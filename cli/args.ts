/** The command line, parsed with node:util and checked with zod (the request limits are the API's own). */
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { MODEL_NAME } from '../shared/schemas/models.js';
import { LIMITS } from '../shared/schemas/generation.js';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export const USAGE = `usage:
  cli draw "<caption>" -o out.png [--model NAME] [--style STYLE] [--steps N] [--guidance G] [--seed S]
  cli describe <image.png|image.jpg> [--model NAME] [--prompt "..."]
  cli models                    the models the server serves, their styles and licences

options:
  --url URL           API base URL (default $API_URL or http://127.0.0.1:3000)
  --api-key KEY       bearer key (default $API_KEY)
  --model NAME        the model (\`cli models\` lists them; default: the server's default)
  --style STYLE       draw: a style the model knows (its draw template, e.g. "draw snake in twitter style")
  -o, --output FILE   where draw writes the image (more images: FILE-1.png, ...)
  --steps N           denoising steps (1-100)
  --guidance G        guidance scale (0-20)
  --seed S            seed (integer >= 0)
  --max-tokens N      text token budget (1-1024)
  --temperature T     text sampling temperature (0-2)
  --prompt TEXT       describe: the question (default: the model's describe prompt)
  --timeout SECONDS   give up waiting after this long (default 600)
  -h, --help          this text`;

const num = (schema: z.ZodNumber) => z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a number').transform(Number).pipe(schema);

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

const Models = Connection.extend({ command: z.literal('models') });

export const CliArgs = z.discriminatedUnion('command', [Draw, Describe, Models]);
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
  if (command !== 'draw' && command !== 'describe' && command !== 'models') throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  if (rest.length > 0) throw new UsageError(`unexpected arguments: ${rest.join(' ')} (quote the caption)`);
  const connection = { url: values.url ?? env['API_URL'] ?? 'http://127.0.0.1:3000', apiKey: values['api-key'] ?? (env['API_KEY'] || undefined) };
  if (command === 'models') {
    if (subject !== undefined) throw new UsageError(`unexpected arguments: ${subject}`);
    return validated({ command, ...connection });
  }
  if (values.style !== undefined && command !== 'draw') throw new UsageError('--style: only draw takes a style');
  const raw = {
    command,
    ...(command === 'draw' ? { caption: subject ?? '' } : { image: subject ?? '' }),
    ...connection,
    model: values.model,
    style: values.style,
    output: values.output ?? (command === 'draw' ? '' : undefined),
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

function validated(raw: Record<string, unknown>): CliArgs {
  const result = CliArgs.safeParse(raw);
  if (!result.success) {
    throw new UsageError(result.error.issues.map((i) => `${i.path.length ? `--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ` : ''}${i.message}`).join('\n'));
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

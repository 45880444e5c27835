/**
 * The command-line client: `npm run cli -- draw "a red circle" -o out.png`,
 * `npm run cli -- describe photo.png`, `edit photo.png "make the circle blue" -o out.png`,
 * `restyle photo.png --style twitter -o out.png`, `chat`, `models`; `--model NAME` picks a
 * model. Exit status: 0 done, 1 failed, 2 bad usage.
 */
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { parseCli, USAGE, UsageError } from './args.js';
import { chat } from './chat.js';
import { ApiClient, CliError, type Fetch } from './client.js';
import { type CommandIO, describe, draw, models } from './commands.js';
import { edit, restyle } from './edit.js';

export interface CliIO {
  stdout: CommandIO['stdout'];
  stderr: CommandIO['stderr'];
  env: Record<string, string | undefined>;
  fetch?: Fetch;
  pollIntervalMs?: number;
  /** chat's input lines (default: stdin, line by line) and whether to prompt for them. */
  stdin?: AsyncIterable<string>;
  interactive?: boolean;
}

export async function main(argv: readonly string[], io: CliIO): Promise<number> {
  let args: ReturnType<typeof parseCli>;
  try {
    args = parseCli(argv, io.env);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.stderr.write(`error: ${err.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (args === 'help') {
    io.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const client = new ApiClient(args.url, args.apiKey, io.fetch);
  const commandIO: CommandIO = { stdout: io.stdout, stderr: io.stderr, sleep: (ms) => sleep(ms), pollIntervalMs: io.pollIntervalMs ?? 500 };
  try {
    if (args.command === 'draw') await draw(client, args, commandIO);
    else if (args.command === 'describe') await describe(client, args, commandIO);
    else if (args.command === 'edit') await edit(client, args, commandIO);
    else if (args.command === 'restyle') await restyle(client, args, commandIO);
    else if (args.command === 'chat') {
      const lines = io.stdin ?? createInterface({ input: process.stdin, crlfDelay: Infinity });
      await chat(client, args, commandIO, { lines, interactive: io.interactive ?? process.stdin.isTTY === true });
    } else await models(client, commandIO);
    return 0;
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    io.stderr.write(`error: ${err.message}\n`);
    return 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}

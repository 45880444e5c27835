/**
 * Test helper: starts the local S3/SQS servers (infra/local/servers.sh) when they are not
 * running and returns their settings. For a test's beforeAll, or top-level await:
 *
 *   const env = await ensureLocalServers();
 *   new SqsQueue({ queueUrl: env.SQS_QUEUE_URL, endpoint: env.AWS_ENDPOINT_URL_SQS, ... })
 *
 * The first run installs the servers into .local-servers/ (minutes); later runs take
 * about as long as the servers take to start, or nothing when they already run.
 */
import { execFile } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { z } from 'zod';

const run = promisify(execFile);
const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'servers.sh');

export const LocalServersEnv = z.object({
  AWS_ACCESS_KEY_ID: z.string().min(1),
  AWS_SECRET_ACCESS_KEY: z.string().min(1),
  AWS_REGION: z.string().min(1),
  AWS_ENDPOINT_URL_S3: z.url(),
  AWS_ENDPOINT_URL_SQS: z.url(),
  S3_BUCKET: z.string().min(1),
  SQS_QUEUE_URL: z.url(),
  SQS_DLQ_URL: z.url(),
});
export type LocalServersEnv = z.infer<typeof LocalServersEnv>;

/** The servers' settings from an environment (e.g. after `eval "$(servers.sh env)"`), or null. */
export function localServersEnvFrom(env: NodeJS.ProcessEnv = process.env): LocalServersEnv | null {
  const parsed = LocalServersEnv.safeParse(env);
  return parsed.success ? parsed.data : null;
}

/** Runs `servers.sh start` (idempotent) and returns what `servers.sh env` prints. */
export async function ensureLocalServers(options: { timeoutMs?: number } = {}): Promise<LocalServersEnv> {
  const timeout = options.timeoutMs ?? 15 * 60_000; // a first install compiles versitygw
  try {
    await run('bash', [SCRIPT, 'start'], { timeout, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`infra/local/servers.sh start failed: ${e.stderr?.trim() || e.message}`);
  }
  const { stdout } = await run('bash', [SCRIPT, 'env'], { timeout: 30_000 });
  return LocalServersEnv.parse(parseExports(stdout));
}

/** The settings of servers that already run (`servers.sh env`), or null when they do not. */
export async function runningLocalServersEnv(): Promise<LocalServersEnv | null> {
  try {
    const { stdout } = await run('bash', [SCRIPT, 'env'], { timeout: 30_000 });
    return localServersEnvFrom(parseExports(stdout));
  } catch {
    return null;
  }
}

/** `export K=V` lines to an object. */
export function parseExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m?.[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

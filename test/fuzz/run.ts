/**
 * Schemathesis (PyPI, in .venv) against the edge's own /openapi.json, with an API key: it
 * generates requests from the spec (examples, coverage of every boundary, random fuzzing,
 * stateful sequences) and runs every check it has on every response. The gate is issue
 * 12's: no server error and no response that breaks the spec, schemathesis's ST1xx codes
 * (server error, undocumented status or content type, body or header against its schema);
 * and issue 28's: no schema-valid request refused (ST202, positive_data_acceptance); the
 * other findings (ST201 and the rest of ST2xx) are reported beside it. hooks.py tells
 * schemathesis the rules JSON Schema cannot state (real image bytes, a conversation's totals
 * and a chat's turn order), so that what it sends as valid is valid.
 *
 * The edge runs as its own process (edge/server.ts) on a fresh DATA_DIR with the tiny model
 * package, and one worker process, so that the route that waits for its images
 * (POST /v1/images/generations) answers with them: it waits up to OPENAI_WAIT_SECONDS=45
 * (then 504, which schemathesis counts as a server error) and schemathesis up to 60 s for a
 * response. WEBHOOK_ALLOW_PRIVATE=1 because
 * generated webhook URLs name any host; the SSRF guard that would refuse them is tested in
 * shared/webhooks/, and with it on, schemathesis would count a refused schema-valid URL.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, startEdgeProcess } from '../chaos/edge-process.js';
import { REPO_ROOT, startWorkerProcess, stopProcess, systemEnv, tempDataDir } from '../e2e/system.js';
import { newSecret } from '../webhooks/receiver.js';

const run = promisify(execFile);
const HOOKS_DIR = join(REPO_ROOT, 'test/fuzz');

export interface FuzzOptions {
  /** Examples per operation and phase; about 25 test cases per unit with this spec. */
  maxExamples: number;
  seed: number;
  reportDir: string;
  /** Schemathesis's own time budget, seconds. */
  maxTimeSeconds?: number;
}

export interface FuzzReport {
  /** Test cases schemathesis generated and sent. */
  cases: number;
  /** Cases that got no response to check (a network error, a read timeout). */
  errored: number;
  operations: number;
  /** Failures by check name (from the JUnit report), gate checks and the rest. */
  failures: Record<string, number>;
  gateFailures: number;
  serverErrors: number;
  /** ST202: schema-valid requests the server refused. */
  rejected: number;
  /** Schemathesis's own errors (a phase that could not run, e.g. a crash of its generator): phases left unchecked. */
  runtimeErrors: number;
  /** Each positive case refused with a 4xx, as hooks.py logged it (operation, status, answer, body): which ones ST202 counted. */
  refused: string[];
  seconds: number;
  summary: string;
}

export async function runFuzz(o: FuzzOptions): Promise<FuzzReport> {
  const data = tempDataDir();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const key = `fuzz-${newSecret()
    .slice(6, 30)
    .replace(/[^A-Za-z0-9]/g, 'x')}`;
  const env = { API_KEYS: key, WEBHOOK_SECRET: newSecret(), WEBHOOK_ALLOW_PRIVATE: '1', OPENAI_WAIT_SECONDS: '45' };
  const [edge, worker] = await Promise.all([
    startEdgeProcess(systemEnv(data.dir, { ...env, PORT: String(port), HOST: '127.0.0.1' }), url),
    startWorkerProcess(data.dir, env),
  ]);
  const started = Date.now();
  mkdirSync(o.reportDir, { recursive: true });
  const junit = join(o.reportDir, `junit-${o.seed}-${o.maxExamples}.xml`);
  const refusedLog = join(o.reportDir, 'refused.ndjson');
  rmSync(refusedLog, { force: true });
  let stdout = '';
  try {
    const args = [
      '--config-file',
      join(HOOKS_DIR, 'schemathesis.toml'),
      'run',
      `${url}/openapi.json`,
      '--header',
      `Authorization: Bearer ${key}`,
      '--checks',
      'all',
      '--max-examples',
      String(o.maxExamples),
      '--seed',
      String(o.seed),
      '--workers',
      '2',
      '--report',
      'junit',
      '--report-junit-path',
      junit,
      '--request-timeout',
      '60',
      '--no-color',
      '--continue-on-failure',
      // The chat body's patterns make generation slow; slow generation says nothing about the server.
      // The image routes wait for their images by design (OPENAI_WAIT_SECONDS=45); ST112 judges a response slower than this.
      '--max-response-time',
      '60',
      '--suppress-health-check',
      'too_slow',
      ...(o.maxTimeSeconds ? ['--max-time', String(o.maxTimeSeconds)] : []),
    ];
    try {
      ({ stdout } = await run(join(REPO_ROOT, '.venv/bin/schemathesis'), args, {
        cwd: o.reportDir,
        maxBuffer: 64 << 20,
        env: { ...process.env, SCHEMATHESIS_TELEMETRY: 'false', SCHEMATHESIS_HOOKS: 'hooks', PYTHONPATH: HOOKS_DIR },
      }));
    } catch (err) {
      // Exit code 1 means failures were found; the report says which.
      stdout = (err as { stdout?: string }).stdout ?? '';
      if (!stdout.includes('Test cases:')) throw err;
    }
  } finally {
    await Promise.all([stopProcess({ child: edge.child, exited: edge.exited }, 10_000), stopProcess(worker, 10_000)]);
    data.remove();
  }
  const cases = Number(/Test cases:\s*\n\s*(\d+) generated/.exec(stdout)?.[1] ?? NaN);
  const errored = Number(/\d+ generated,.*?(\d+) errored/.exec(stdout)?.[1] ?? 0);
  const operations = Number(/Tested:\s*(\d+)/.exec(stdout)?.[1] ?? NaN);
  const failures: Record<string, number> = {};
  for (const line of stdout.matchAll(/^\s*❌ (.+?): (\d+)$/gm)) failures[line[1]!] = Number(line[2]);
  // Schemathesis's ST1xx codes: server errors and responses that break the documented spec.
  const gateFailures = Object.entries(failures)
    .filter(([name]) => /^ST1\d\d /.test(name))
    .reduce((n, [, v]) => n + v, 0);
  const serverErrors = Object.entries(failures)
    .filter(([name]) => /^ST10[12] /.test(name))
    .reduce((n, [, v]) => n + v, 0);
  const rejected = Object.entries(failures)
    .filter(([name]) => /^ST202 /.test(name))
    .reduce((n, [, v]) => n + v, 0);
  const runtimeErrors = Number(/Runtime Error: (\d+)/.exec(stdout)?.[1] ?? 0);
  const refused = existsSync(refusedLog) ? readFileSync(refusedLog, 'utf8').split('\n').filter(Boolean) : [];
  const summary =
    stdout.slice(Math.max(0, stdout.lastIndexOf('SUMMARY') - 40)) +
    (refused.length > 0 ? `\nRefused positive cases (hooks.py):\n${refused.join('\n')}\n` : '');
  return {
    cases,
    errored,
    operations,
    failures,
    gateFailures,
    serverErrors,
    rejected,
    runtimeErrors,
    refused,
    seconds: Math.round((Date.now() - started) / 1000),
    summary,
  };
}

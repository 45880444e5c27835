/**
 * The edge's cold start in the Lambda Runtime Interface Emulator, measured several times:
 * the bundle is built once (as the CDK builds it), then each run starts a fresh emulator
 * (a new execution environment) and sends one GET /healthz. Prints, per run and as medians,
 * the emulator's init (runtime started, handler module imported: rapid's INIT REPORT) and
 * the first invocation (the edge builds its dependencies then: config, model registry with
 * every kept file checked against its sha256, S3 and SQS clients; it makes no AWS call),
 * and the CPU time the runtime process used for both, which the machine's load stretches less.
 *
 *   npx tsx test/lambda/cold-start.ts [--runs 5] [--no-source-maps]
 *
 * --no-source-maps drops the stack's NODE_OPTIONS=--enable-source-maps, to show its cost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULTS } from '../../infra/lib/config.js';
import { edgeEnvironment } from '../../infra/lib/service-env.js';
import { bundleEdge } from '../../infra/scripts/bundle-edge.js';
import { type HttpApiResult, httpApiEvent } from './events.js';
import { Emulator } from './rie.js';
import { REPO_ROOT, ricDirectory, rieBinary } from './tools.js';

const argv = process.argv.slice(2);
const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 5) || 5;
const sourceMaps = !argv.includes('--no-source-maps');

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const work = mkdtempSync(join(tmpdir(), 'edge-cold-'));
try {
  const taskRoot = join(work, 'task');
  const bundle = bundleEdge({ repoRoot: REPO_ROOT, outDir: taskRoot, models: DEFAULTS.models });
  const env = edgeEnvironment(DEFAULTS, {
    bucketName: 'cold-start-bucket',
    queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
    deadLetterQueueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs-dlq',
    modelDirs: DEFAULTS.models.map((m) => join(taskRoot, m)),
    apiKeys: 'cold:cold-start-key',
    webhookSecrets: '',
    openAiWaitSeconds: 25,
  });
  if (!sourceMaps) delete env['NODE_OPTIONS'];
  const rie = rieBinary();
  const ricDir = ricDirectory();
  const init: number[] = [];
  const first: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const emulator = await Emulator.start({
      rieBin: rie,
      ricDir,
      taskRoot,
      handler: 'index.handler',
      env: {
        ...env,
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'x',
        AWS_SECRET_ACCESS_KEY: 'x',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
        AWS_LAMBDA_FUNCTION_TIMEOUT: '29',
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: work,
      },
    });
    try {
      const res = await emulator.invoke<HttpApiResult>(httpApiEvent('GET', '/healthz'));
      if (res.statusCode !== 200) throw new Error(`GET /healthz answered ${res.statusCode}: ${res.body}`);
      const t = emulator.timings();
      const cpuMs = emulator.runtimeCpuMs();
      init.push(t.initMs!);
      first.push(t.invokeMs[0]!);
      if (cpuMs !== undefined) cpu.push(cpuMs);
      console.log(
        `run ${i + 1}: init ${t.initMs!.toFixed(0)} ms, first invocation ${t.invokeMs[0]!.toFixed(0)} ms, runtime CPU time ${cpuMs?.toFixed(0) ?? '?'} ms`,
      );
    } finally {
      await emulator.stop();
    }
  }
  const mb = (bundle.totalBytes / 1024 / 1024).toFixed(1);
  console.log(
    `cold start (median of ${runs}, ${sourceMaps ? 'with' : 'without'} source maps, Node ${process.version}): init ${median(init).toFixed(0)} ms + first invocation ${median(first).toFixed(0)} ms (runtime CPU time ${cpu.length > 0 ? median(cpu).toFixed(0) : '?'} ms); bundle ${mb} MB unzipped`,
  );
} finally {
  rmSync(work, { recursive: true, force: true });
}

/**
 * The edge in Lambda's runtime (issue 28 item 6): the bundle the CDK deploys
 * (infra/scripts/bundle-edge.ts, the shipped models), with the environment the stack gives
 * the function (infra/lib/service-env.ts), run by AWS's Runtime Interface Emulator with the
 * Node.js runtime interface client, and invoked with API Gateway HTTP API (2.0) events:
 * health and readiness, a text answer (describe, decoded on the CPU in the function), a
 * queued image job (record in S3, message in SQS: the local servers), and client errors.
 * Prints the cold start (the emulator's init, the first invocation) and the bundle's size.
 * Skipped, saying so, only where Go is absent (the emulator is a Go module).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS } from '../../infra/lib/config.js';
import { edgeEnvironment } from '../../infra/lib/service-env.js';
import { ensureLocalServers, type LocalServersEnv } from '../../infra/local/servers.js';
import { type BundleReport, bundleEdge } from '../../infra/scripts/bundle-edge.js';
import { awsCommon, createSqsQueuePair, resolveAwsEnv } from '../adapters/aws-env.js';
import { type HttpApiResult, httpApiEvent } from './events.js';
import { Emulator } from './rie.js';
import { REPO_ROOT, ricDirectory, rieBinary, skipReason } from './tools.js';

const skip = skipReason();
if (skip) console.warn(`edge Lambda emulator test SKIPPED: ${skip}`);

const KEY = 'rie-test-key';
const MB = 1024 * 1024;

/** A 64 x 64 PNG, white with a red disc at the top left: something for shapes64 to describe. */
function redDiscPng(): string {
  const png = new PNG({ width: 64, height: 64 });
  for (let y = 0; y < 64; y++) {
    for (let x = 0; x < 64; x++) {
      const inside = (x - 16) ** 2 + (y - 16) ** 2 <= 12 ** 2;
      png.data.set(inside ? [220, 30, 30, 255] : [255, 255, 255, 255], (y * 64 + x) * 4);
    }
  }
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

describe.skipIf(skip !== undefined)(`the edge bundle in the Lambda Runtime Interface Emulator${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let work: string;
  let bundle: BundleReport;
  let servers: LocalServersEnv;
  let queue: Awaited<ReturnType<typeof createSqsQueuePair>>;
  let emulator: Emulator;
  const auth = { authorization: `Bearer ${KEY}` };
  const call = (event: ReturnType<typeof httpApiEvent>) => emulator.invoke<HttpApiResult>(event);

  beforeAll(async () => {
    const rie = rieBinary();
    const ricDir = ricDirectory();
    // The local S3/SQS servers (scripts/test-all.sh starts them); started here otherwise.
    servers = (await resolveAwsEnv('edge Lambda emulator test')) ?? (await ensureLocalServers());
    queue = await createSqsQueuePair(servers, { visibilityTimeoutSeconds: 30, maxReceiveCount: 3 });
    work = mkdtempSync(join(tmpdir(), 'edge-lambda-'));
    const taskRoot = join(work, 'task');
    // The deployment's default models: the shipped packages that are in the repository.
    const models = DEFAULTS.models.filter((m) => existsSync(join(REPO_ROOT, m, 'manifest.json')));
    bundle = bundleEdge({ repoRoot: REPO_ROOT, outDir: taskRoot, models });
    // What the stack sets (MODELS under /var/task there, under the task root here), pointed at the local servers.
    const functionEnv = edgeEnvironment(DEFAULTS, {
      bucketName: servers.S3_BUCKET,
      queueUrl: queue.queueUrl,
      deadLetterQueueUrl: queue.dlqUrl,
      modelDirs: models.map((m) => join(taskRoot, m)),
      apiKeys: `rie:${KEY}`,
      webhookSecrets: '',
      openAiWaitSeconds: 25,
    });
    emulator = await Emulator.start({
      rieBin: rie,
      ricDir,
      taskRoot,
      handler: 'index.handler',
      env: {
        ...functionEnv,
        LOG_LEVEL: 'warn',
        S3_ENDPOINT: servers.AWS_ENDPOINT_URL_S3,
        SQS_ENDPOINT: servers.AWS_ENDPOINT_URL_SQS,
        AWS_REGION: servers.AWS_REGION,
        AWS_ACCESS_KEY_ID: servers.AWS_ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY: servers.AWS_SECRET_ACCESS_KEY,
        AWS_LAMBDA_FUNCTION_NAME: 'edge-rie-test',
        AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '2048',
        AWS_LAMBDA_FUNCTION_TIMEOUT: '29',
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: work,
      },
    });
  }, 15 * 60_000);

  afterAll(async () => {
    await emulator?.stop();
    await queue?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('answers GET /healthz (the cold start) and GET /readyz with the bucket and queue reachable', async () => {
    const health = await call(httpApiEvent('GET', '/healthz'));
    expect(health.statusCode, health.body).toBe(200);
    expect(JSON.parse(health.body)).toMatchObject({ status: 'ok' });
    const ready = await call(httpApiEvent('GET', '/readyz'));
    expect(ready.statusCode, ready.body).toBe(200);
  });

  it('describes an image: the text answer decoded on the CPU inside the function (201)', async () => {
    const res = await call(
      httpApiEvent('POST', '/v1/generations', { headers: auth, json: { prompt: 'describe the image', images: [redDiscPng()], seed: 1 } }),
    );
    expect(res.statusCode, res.body).toBe(201);
    const generation = JSON.parse(res.body) as { status: string; model: string; output: { type: string; text?: string }[] };
    expect(generation.status).toBe('succeeded');
    expect(generation.model).toBe('shapes64');
    const text = generation.output
      .filter((p) => p.type === 'text')
      .map((p) => p.text)
      .join('');
    expect(text.length).toBeGreaterThan(0);
    expect(generation.output.some((p) => p.type === 'image')).toBe(false);
  });

  it('queues an image job: 202, the record readable, its id on the SQS queue', async () => {
    const res = await call(
      httpApiEvent('POST', '/v1/generations', { headers: auth, json: { prompt: 'draw a large red circle at the top left', seed: 7 } }),
    );
    expect(res.statusCode, res.body).toBe(202);
    const { id, status } = JSON.parse(res.body) as { id: string; status: string };
    expect(status).toBe('queued');
    const read = await call(httpApiEvent('GET', `/v1/generations/${id}`, { headers: auth }));
    expect(read.statusCode, read.body).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({ id, status: 'queued' });
    const sqs = new SQSClient({ ...awsCommon(servers), endpoint: servers.AWS_ENDPOINT_URL_SQS });
    try {
      const got = await sqs.send(new ReceiveMessageCommand({ QueueUrl: queue.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 2 }));
      expect((got.Messages ?? []).map((m) => m.Body ?? '').some((body) => body.includes(id))).toBe(true);
    } finally {
      sqs.destroy();
    }
  });

  it('answers a client mistake with a 4xx in the error shape', async () => {
    const bad = await call(httpApiEvent('POST', '/v1/generations', { headers: auth, json: { prompt: '' } }));
    expect(bad.statusCode, bad.body).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ error: { code: expect.any(String), message: expect.any(String) } });
    const unknownModel = await call(
      httpApiEvent('POST', '/v1/generations', { headers: auth, json: { prompt: 'draw a circle', model: 'no-such-model' } }),
    );
    expect(unknownModel.statusCode, unknownModel.body).toBe(400);
    expect(JSON.parse(unknownModel.body)).toMatchObject({ error: { code: 'unknown_model' } });
    const anonymous = await call(httpApiEvent('GET', '/v1/models'));
    expect(anonymous.statusCode, anonymous.body).toBe(401);
  });

  it('reports its cold start and size: init within Lambda 10 s init limit, the bundle within 250 MB', async () => {
    const warm = await call(httpApiEvent('GET', '/healthz'));
    expect(warm.statusCode).toBe(200);
    const { initMs, invokeMs } = emulator.timings();
    expect(initMs, emulator.tail()).toBeDefined();
    expect(initMs!).toBeLessThan(10_000);
    const [firstHealth, , firstDescribe] = invokeMs;
    const summary = {
      bundle_mb: +(bundle.totalBytes / MB).toFixed(1),
      models_mb: Object.fromEntries(Object.entries(bundle.modelBytes).map(([m, b]) => [m, +(b / MB).toFixed(1)])),
      init_ms: initMs,
      first_invocation_ms: firstHealth,
      cold_start_ms: +(initMs! + firstHealth!).toFixed(1),
      first_describe_ms: firstDescribe,
      warm_healthz_ms: invokeMs.at(-1),
      node: process.version,
    };
    console.log(`edge Lambda (RIE): ${JSON.stringify(summary)}`);
    for (const line of emulator.reports().slice(0, 3)) console.log(`  ${line.trim()}`);
    expect(bundle.totalBytes).toBeLessThan(250 * MB);
  });
});

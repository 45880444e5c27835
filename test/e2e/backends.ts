/**
 * The back ends the end-to-end suite runs on, behind one small interface: what the edge and
 * the workers are configured with, and what the tests read beside the API (output objects,
 * the dead-letter queue).
 *
 * - embedded: SQLite queue + file store under the run's DATA_DIR.
 * - aws: the local S3/SQS-compatible servers (infra/local/servers.sh). Each run gets its own
 *   queue pair, created with the attributes of the configured `jobs` queue (visibility
 *   timeout, redrive after maxReceiveCount receives), so that runs never see each other's
 *   messages, even two sessions sharing the servers; objects go to the shared bucket under
 *   fresh job ids.
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { LocalServersEnv } from '../../infra/local/servers.js';
import { embeddedPaths } from '../../shared/adapters.js';
import type { JobQueue } from '../../shared/ports/queue.js';
import { SqliteQueue } from '../../shared/queue/sqlite-queue.js';
import { SqsQueue } from '../../shared/queue/sqs-queue.js';
import { awsCommon, createSqsQueuePair } from '../adapters/aws-env.js';

export interface Backend {
  readonly name: 'embedded' | 'aws';
  /** STORE, QUEUE and their settings, for the edge and every worker (empty: the defaults). */
  readonly env: Record<string, string>;
  /** The queue's maxReceiveCount: receives before a message goes to the dead-letter queue. */
  readonly maxReceiveCount: number;
  /** What an image part's URL looks like on this back end. */
  readonly imageUrl: RegExp;
  /** Names of the objects under `outputs/<jobId>/`. */
  outputNames(dataDir: string, jobId: string): Promise<string[]>;
  /** The dead-letter queue (closed by the caller). */
  deadLetters(dataDir: string): JobQueue;
  close(): Promise<void>;
}

export function embeddedBackend(): Backend {
  return {
    name: 'embedded',
    env: {},
    maxReceiveCount: 3,
    imageUrl: /^\/v1\/files\/outputs\//,
    async outputNames(dataDir, jobId) {
      try {
        return readdirSync(join(embeddedPaths(dataDir).store, 'objects/outputs', jobId)).sort();
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw err;
      }
    },
    deadLetters(dataDir) {
      const queue = new SqliteQueue({ path: embeddedPaths(dataDir).queue });
      const deadLetters = queue.deadLetterQueue();
      void queue.close(); // the view keeps the shared connection open until it is closed
      return deadLetters;
    },
    async close() {},
  };
}

/**
 * The local servers. The in-process edge's SDK clients take their credentials from
 * process.env (as on AWS, where they come from the role), so they are set here when the
 * servers were found some other way, and put back by `close`.
 */
export async function awsBackend(env: LocalServersEnv, options: { maxReceiveCount?: number } = {}): Promise<Backend> {
  // A fresh settings object for each client: the SDK marks the credentials object it is given.
  const common = (): ReturnType<typeof awsCommon> => awsCommon(env);
  const sqs = new SQSClient({ ...common(), endpoint: env.AWS_ENDPOINT_URL_SQS });
  const configured = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: env.SQS_QUEUE_URL, AttributeNames: ['VisibilityTimeout', 'RedrivePolicy'] }),
  );
  sqs.destroy();
  const redrive = JSON.parse(configured.Attributes?.RedrivePolicy ?? '{}') as { maxReceiveCount?: number | string };
  const configuredCount = Number(redrive.maxReceiveCount);
  if (!Number.isInteger(configuredCount) || configuredCount < 1) {
    throw new Error(`${env.SQS_QUEUE_URL} has no redrive policy (got ${JSON.stringify(configured.Attributes)})`);
  }
  // A run may want another count than the configured queue's (the chaos pool run: more receives than its kills).
  const maxReceiveCount = options.maxReceiveCount ?? configuredCount;
  const pair = await createSqsQueuePair(env, {
    visibilityTimeoutSeconds: Number(configured.Attributes?.VisibilityTimeout ?? 30),
    maxReceiveCount,
  });
  const s3 = new S3Client({ ...common(), endpoint: env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });

  const credentials = { AWS_ACCESS_KEY_ID: env.AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: env.AWS_SECRET_ACCESS_KEY };
  const saved = Object.fromEntries(Object.keys(credentials).map((k) => [k, process.env[k]]));
  Object.assign(process.env, credentials);

  return {
    name: 'aws',
    env: {
      STORE: 's3',
      QUEUE: 'sqs',
      S3_BUCKET: env.S3_BUCKET,
      S3_ENDPOINT: env.AWS_ENDPOINT_URL_S3,
      SQS_QUEUE_URL: pair.queueUrl,
      SQS_DLQ_URL: pair.dlqUrl,
      SQS_ENDPOINT: env.AWS_ENDPOINT_URL_SQS,
      AWS_REGION: env.AWS_REGION,
      ...credentials,
    },
    maxReceiveCount,
    // A presigned GET on the S3 server itself, path-style: the client fetches it there.
    imageUrl: new RegExp(
      `^${escapeRegExp(env.AWS_ENDPOINT_URL_S3)}/${escapeRegExp(env.S3_BUCKET)}/outputs/[^?]+\\.png\\?.*X-Amz-Signature=`,
    ),
    async outputNames(_dataDir, jobId) {
      const prefix = `outputs/${jobId}/`;
      const out = await s3.send(new ListObjectsV2Command({ Bucket: env.S3_BUCKET, Prefix: prefix }));
      return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
    },
    deadLetters() {
      return new SqsQueue({ ...common(), endpoint: env.AWS_ENDPOINT_URL_SQS, queueUrl: pair.dlqUrl });
    },
    async close() {
      s3.destroy();
      await pair.cleanup();
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    },
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

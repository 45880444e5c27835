/**
 * Where the AWS-backed suites find their servers. They run when the local servers' env is
 * set (`eval "$(infra/local/servers.sh env)"`, as .ci/run does), or when LOCAL_SERVERS=1
 * asks the tests to start them; otherwise they skip and say why.
 */
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { ensureLocalServers, type LocalServersEnv, localServersEnvFrom, runningLocalServersEnv } from '../../infra/local/servers.js';

export const SKIP_REASON =
  'AWS-compatible suites skipped: the local S3/SQS servers are not running and not configured. Run ' +
  '`infra/local/servers.sh start` (and `eval "$(infra/local/servers.sh env)"`), or set LOCAL_SERVERS=1 to let the tests start them.';

/**
 * The servers' settings: from the environment, else from servers started by `LOCAL_SERVERS=1`,
 * else from servers that already run (`servers.sh env`); null (after saying why) when none.
 */
export async function resolveAwsEnv(suite = 'AWS adapter suites'): Promise<LocalServersEnv | null> {
  const fromEnv = localServersEnvFrom();
  if (fromEnv) return fromEnv;
  if (process.env.LOCAL_SERVERS === '1') return ensureLocalServers();
  const running = await runningLocalServersEnv();
  if (running) return running;
  console.warn(`${suite}: ${SKIP_REASON}`);
  return null;
}

export function awsCommon(env: LocalServersEnv) {
  return {
    region: env.AWS_REGION,
    credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY },
  };
}

/** A fresh queue and its dead-letter queue with a short timeout, deleted by `cleanup`. */
export async function createSqsQueuePair(
  env: LocalServersEnv,
  opts: { visibilityTimeoutSeconds: number; maxReceiveCount: number },
): Promise<{ queueUrl: string; dlqUrl: string; cleanup: () => Promise<void> }> {
  const client = new SQSClient({ ...awsCommon(env), endpoint: env.AWS_ENDPOINT_URL_SQS });
  const name = `t-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq` }));
  const dlqUrl = dlq.QueueUrl!;
  const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
  const q = await client.send(
    new CreateQueueCommand({
      QueueName: name,
      Attributes: {
        VisibilityTimeout: String(opts.visibilityTimeoutSeconds),
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: attrs.Attributes!.QueueArn, maxReceiveCount: opts.maxReceiveCount }),
      },
    }),
  );
  const queueUrl = q.QueueUrl!;
  return {
    queueUrl,
    dlqUrl,
    cleanup: async () => {
      await client.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => {});
      await client.send(new DeleteQueueCommand({ QueueUrl: dlqUrl })).catch(() => {});
      client.destroy();
    },
  };
}

/**
 * The end-to-end suite (system-suite.ts) on the AWS-compatible back end: STORE=s3 QUEUE=sqs
 * against the local servers (versitygw, ElasticMQ; infra/local/servers.sh). It finds them in
 * the environment (scripts/test-all.sh exports it), already running, or starts them when
 * LOCAL_SERVERS=1; otherwise it is skipped, and says why.
 */
import { resolveAwsEnv } from '../adapters/aws-env.js';
import { awsBackend } from './backends.js';
import { systemSuite } from './system-suite.js';

const env = await resolveAwsEnv('end-to-end suite on S3/SQS');

systemSuite('the AWS-compatible back end (S3 on versitygw + SQS on ElasticMQ)', async () => awsBackend(env!), !env);

/**
 * Several models end to end (models-suite.ts) on STORE=s3 QUEUE=sqs against the local servers
 * (infra/local/servers.sh): the SQS message carries the model. Skipped, saying why, when the
 * servers are neither in the environment nor running (LOCAL_SERVERS=1 starts them).
 */
import { resolveAwsEnv } from '../adapters/aws-env.js';
import { awsBackend } from './backends.js';
import { modelsSuite } from './models-suite.js';

const env = await resolveAwsEnv('several-models suite on S3/SQS');

modelsSuite('the AWS-compatible back end (S3 on versitygw + SQS on ElasticMQ)', async () => awsBackend(env!), !env);

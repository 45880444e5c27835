/**
 * The edge: the Hono app (edge/lambda.ts) on Lambda behind an API Gateway HTTP API.
 * It tokenizes, decodes text on CPU with onnxruntime-node, writes job records and input
 * images to S3 and sends job ids to SQS; it never receives from the queue.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { InfraConfig } from './config.js';
import { acknowledgeBucketPrefixes } from './nag.js';
import { edgeEnvironment } from './service-env.js';
import { PREFIX } from './storage.js';

export interface EdgeProps {
  readonly config: InfraConfig;
  /** The bundle: edge/lambda.ts as index.mjs, onnxruntime-node (linux/x64 only), the model packages. */
  readonly code: lambda.Code;
  /** Where the model packages lie inside the bundle (MODELS), the default first. */
  readonly modelDirs: readonly string[];
  readonly bucket: s3.IBucket;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** API_KEYS, from a NoEcho stack parameter so that keys never appear in the template. */
  readonly apiKeys: string;
  /** WEBHOOK_SECRETS (`tenant:whsec_...`), likewise from a NoEcho parameter; may be empty. */
  readonly webhookSecrets: string;
}

/** Lambda's own limit on the integration is 30 s for HTTP APIs; stay under it. */
export const EDGE_TIMEOUT_SECONDS = 29;
export const EDGE_MEMORY_MB = 2048;

export class Edge extends Construct {
  readonly function: lambda.Function;
  readonly api: apigw.HttpApi;
  readonly url: string;

  constructor(scope: Construct, id: string, props: EdgeProps) {
    super(scope, id);
    const { config } = props;
    const retention = config.logRetentionDays as logs.RetentionDays;

    const logGroup = new logs.LogGroup(this, 'FunctionLogs', { retention });
    const role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description:
        'Edge Lambda: job records, inputs, idempotency claims and rate-limit counters in S3, send to the job queue, its own logs.',
    });
    // Written out instead of AWSLambdaBasicExecutionRole, which allows every log group.
    role.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${logGroup.logGroupArn}`],
      }),
    );
    const bucketArn = props.bucket.bucketArn;
    role.addToPolicy(
      new iam.PolicyStatement({
        // webhooks/: the delivery log a generation shows, and the completed event of an answer made here.
        sid: 'JobRecordsInputsAndWebhookLogs',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [`${bucketArn}/${PREFIX.jobs}*`, `${bucketArn}/${PREFIX.inputs}*`, `${bucketArn}/${PREFIX.webhooks}*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        // Idempotency-Key claims and per-tenant rate-limit counters: conditional PUTs (If-None-Match, If-Match).
        sid: 'IdempotencyAndRateLimits',
        actions: ['s3:GetObject', 's3:PutObject'],
        resources: [`${bucketArn}/${PREFIX.idempotency}*`, `${bucketArn}/${PREFIX.ratelimit}*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'PresignOutputs',
        actions: ['s3:GetObject'],
        resources: [`${bucketArn}/${PREFIX.outputs}*`],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        // Without ListBucket S3 answers 403 instead of 404 for a missing key, and an
        // unknown job id would read as an internal error instead of "not found".
        sid: 'NotFoundIs404',
        actions: ['s3:ListBucket'],
        resources: [bucketArn],
      }),
    );
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'SendJobs',
        // GetQueueAttributes: a queued generation's queue_position (the messages waiting).
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        resources: [props.queue.queueArn],
      }),
    );

    this.function = new lambda.Function(this, 'Function', {
      description: 'Edge: the public API (Hono), text decoding on CPU, job submission.',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.X86_64,
      handler: 'index.handler',
      code: props.code,
      memorySize: EDGE_MEMORY_MB,
      timeout: Duration.seconds(EDGE_TIMEOUT_SECONDS),
      role,
      logGroup,
      environment: edgeEnvironment(config, {
        bucketName: props.bucket.bucketName,
        queueUrl: props.queue.queueUrl,
        deadLetterQueueUrl: props.deadLetterQueue.queueUrl,
        modelDirs: props.modelDirs,
        apiKeys: props.apiKeys,
        webhookSecrets: props.webhookSecrets,
        // POST /v1/images/generations answers 504 with the generation ids before the function times out.
        openAiWaitSeconds: EDGE_TIMEOUT_SECONDS - 4,
      }),
    });
    acknowledgeBucketPrefixes(
      role,
      props.bucket,
      [PREFIX.jobs, PREFIX.inputs, PREFIX.outputs, PREFIX.webhooks, PREFIX.idempotency, PREFIX.ratelimit],
      'the grant covers that prefix of this one bucket and only the actions the edge needs there.',
    );

    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention });
    this.api = new apigw.HttpApi(this, 'HttpApi', {
      description: 'Public API of the unified text-and-image model.',
      defaultIntegration: new HttpLambdaIntegration('Edge', this.function, {
        payloadFormatVersion: apigw.PayloadFormatVersion.VERSION_2_0,
      }),
      createDefaultStage: false,
    });
    const stage = new apigw.HttpStage(this, 'DefaultStage', {
      httpApi: this.api,
      stageName: '$default',
      autoDeploy: true,
      throttle: { rateLimit: config.apiRateLimit, burstLimit: config.apiBurstLimit },
      accessLogSettings: { destination: new apigw.LogGroupLogDestination(accessLogs) },
    });
    this.url = stage.url;
    const defaultRoute = this.api.node.tryFindChild('DefaultRoute');
    if (!defaultRoute) throw new Error('HTTP API has no default route');
    Validations.of(defaultRoute).acknowledge({
      id: 'AwsSolutions-APIG4',
      reason:
        'The app authenticates every /v1 request itself (API_KEYS, checked by the Hono middleware) and must leave /openapi.json and the docs page open; an API Gateway authorizer would add a second, duplicate check.',
    });
  }
}

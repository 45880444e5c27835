// biome-ignore-all lint/suspicious/noExplicitAny: a synthesized CloudFormation template is untyped JSON, and these tests read it by path
/**
 * Assertions on the synthesized template. One synthesis (with cdk-nag's AwsSolutions
 * checks, which throw on any unacknowledged finding) is shared by every test here.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import * as path from 'node:path';
import { Match, type Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULTS, SHIPPED_MODELS } from '../lib/config.js';
import { gpuAmiParameter } from '../lib/worker-pool.js';
import { REPO_ROOT } from '../scripts/bundle-edge.js';
import { synthesize } from './synth.js';

/** The models the default configuration serves: the shipped packages in this checkout. */
const presentShipped = SHIPPED_MODELS.filter((dir) => existsSync(path.join(REPO_ROOT, dir, 'manifest.json')));

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

let template: Template;
let resources: Resources;
let outdir: string;

beforeAll(() => {
  const synthesized = synthesize();
  template = synthesized.template;
  outdir = synthesized.outdir;
  resources = template.toJSON().Resources as Resources;
});
afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const logicalIdOfType = (type: string, where: (props: Record<string, any>) => boolean = () => true): string => {
  const found = ofType(type).filter(([, r]) => where(r.Properties ?? {}));
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0]![0];
};
const dataBucketId = () => logicalIdOfType('AWS::S3::Bucket', (p) => p.LoggingConfiguration !== undefined);
const jobQueueId = () => logicalIdOfType('AWS::SQS::Queue', (p) => p.RedrivePolicy !== undefined);

describe('cdk-nag (AwsSolutions)', () => {
  it('synthesizes with no finding left unacknowledged', () => {
    const report = JSON.parse(readFileSync(path.join(outdir, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: unknown[] }[];
    };
    // A plugin with no violation leaves no report; any report here is a finding.
    expect(report.pluginReports.flatMap((r) => r.violations)).toEqual([]);
  });
});

describe('storage', () => {
  it('blocks all public access on both buckets', () => {
    template.resourcePropertiesCountIs(
      'AWS::S3::Bucket',
      {
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          BlockPublicPolicy: true,
          IgnorePublicAcls: true,
          RestrictPublicBuckets: true,
        },
      },
      2,
    );
  });

  it('encrypts with S3-managed keys and logs access to the log bucket', () => {
    const bucket = resources[dataBucketId()]!.Properties;
    expect(bucket.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(bucket.LoggingConfiguration.DestinationBucketName).toEqual({ Ref: expect.stringMatching(/LogBucket/) });
    expect(bucket.VersioningConfiguration).toBeUndefined();
  });

  it('denies every request that is not TLS', () => {
    const id = dataBucketId();
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: id },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Deny',
            Action: 's3:*',
            Principal: { AWS: '*' },
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          }),
        ]),
      },
    });
  });

  it('expires inputs/, outputs/ and jobs/ after the configured days, idempotency claims and rate-limit counters after theirs', () => {
    const rules = resources[dataBucketId()]!.Properties.LifecycleConfiguration.Rules as Record<string, unknown>[];
    for (const [prefix, days] of [
      ['inputs/', DEFAULTS.inputsExpirationDays],
      ['outputs/', DEFAULTS.outputsExpirationDays],
      ['jobs/', DEFAULTS.jobsExpirationDays],
      // An Idempotency-Key is honoured for 24 h: its claim must outlive that.
      ['idempotency/', 2],
      ['ratelimit/', 1],
    ] as const) {
      expect(rules).toContainEqual(expect.objectContaining({ Prefix: prefix, ExpirationInDays: days, Status: 'Enabled' }));
    }
  });
});

describe('queues', () => {
  it('sends a message to the dead-letter queue after 3 receives', () => {
    const queue = resources[jobQueueId()]!.Properties;
    expect(queue.RedrivePolicy.maxReceiveCount).toBe(3);
    expect(queue.RedrivePolicy.deadLetterTargetArn['Fn::GetAtt'][0]).toMatch(/DeadLetterQueue/);
  });

  it('encrypts both queues and denies non-TLS access to them', () => {
    template.resourcePropertiesCountIs('AWS::SQS::Queue', { SqsManagedSseEnabled: true }, 2);
    template.resourcePropertiesCountIs(
      'AWS::SQS::QueuePolicy',
      {
        PolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
        },
      },
      2,
    );
  });

  it('alarms on any dead letter and on old messages', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
      AlarmActions: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [jobQueueId(), 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: DEFAULTS.queueAgeAlarmSeconds,
    });
  });
});

describe('edge', () => {
  it('runs on Lambda (Node, x86_64, 2048 MB, 29 s) with the AWS adapters configured', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: Match.stringLikeRegexp('^nodejs(2[0-9]|[3-9][0-9])\\.x$'),
      Architectures: ['x86_64'],
      Handler: 'index.handler',
      MemorySize: 2048,
      Timeout: 29,
      Environment: {
        Variables: Match.objectLike({
          STORE: 's3',
          QUEUE: 'sqs',
          S3_BUCKET: { Ref: dataBucketId() },
          SQS_QUEUE_URL: { Ref: jobQueueId() },
          SQS_DLQ_URL: Match.anyValue(),
          MODELS: presentShipped.map((dir) => `/var/task/${dir}`).join(','),
          EXECUTION_PROVIDER: 'cpu',
          API_KEYS: { Ref: 'ApiKeys' },
          RATE_LIMIT_PER_MINUTE: String(DEFAULTS.rateLimitPerMinute),
          VISIBILITY_TIMEOUT_SECONDS: String(DEFAULTS.visibilityTimeoutSeconds),
          // Under the function's 29 s: the images route answers 504 with its ids in time.
          OPENAI_WAIT_SECONDS: '25',
        }),
      },
    });
  });

  it('sits behind an HTTP API whose default route invokes it', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', { ProtocolType: 'HTTP' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      PayloadFormatVersion: '2.0',
    });
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: '$default' });
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      AccessLogSettings: Match.objectLike({ DestinationArn: Match.anyValue() }),
    });
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
    });
  });

  it('keeps the API keys out of the template (NoEcho parameter)', () => {
    const param = template.toJSON().Parameters.ApiKeys;
    expect(param).toMatchObject({ Type: 'String', NoEcho: true });
    expect(param.Default).toBeUndefined();
    // The pattern mirrors shared/config's API_KEYS rule, so a bad value fails the deploy, not the first request.
    const pattern = new RegExp(param.AllowedPattern);
    const good = [
      'k3y-0123456789',
      'abcdefgh,ABCDEFGH!',
      'acme:key-of-acme-1',
      'acme:key-of-acme-1,globex:k3y:with:colons',
      '-x:a-bare-key-with-colon',
    ];
    expect(good.filter((k) => !pattern.test(k))).toEqual([]);
    // A tenant's key is 8 characters at least, as the edge checks (acme:short is 10 characters, its key 5).
    const bad = ['short', 'abcdefgh,', 'with space 123', '', 'acme:short', 'acme:key-of-acme-1,'];
    expect(bad.filter((k) => pattern.test(k))).toEqual([]);
  });
});

describe('GPU worker pool', () => {
  it('has an Auto Scaling group of GPU instances with minimum 0, in public subnets without NAT', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MinSize: '0',
      MaxSize: String(DEFAULTS.maxWorkers),
      NewInstancesProtectedFromScaleIn: true,
    });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        InstanceType: 'g5.xlarge',
        ImageId: { Ref: Match.stringLikeRegexp('ecsoptimizedami.*gpu.*20261113') },
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        NetworkInterfaces: [Match.objectLike({ AssociatePublicIpAddress: true })],
      }),
    });
    template.resourceCountIs('AWS::EC2::NatGateway', 0);
    const sg = ofType('AWS::EC2::SecurityGroup').map(([, r]) => r.Properties);
    expect(sg.every((p) => p.SecurityGroupIngress === undefined)).toBe(true);
    template.resourceCountIs('AWS::EC2::SecurityGroupIngress', 0);
  });

  it("boots one pinned ECS GPU AMI release (its NVIDIA driver supports the image's CUDA 13), not the latest", () => {
    const parameters = template.toJSON().Parameters as Record<string, { Type: string; Default?: string }>;
    const amiParameters = Object.values(parameters).filter((p) => p.Type === 'AWS::SSM::Parameter::Value<AWS::EC2::Image::Id>');
    expect(amiParameters.map((p) => p.Default)).toEqual([gpuAmiParameter(DEFAULTS.gpuAmiName)]);
    expect(DEFAULTS.gpuAmiName).toBe('al2023-ami-ecs-gpu-hvm-2023.0.20261113-kernel-6.1-x86_64-ebs');
    expect(gpuAmiParameter(DEFAULTS.gpuAmiName)).not.toMatch(/recommended/);
  });

  it('uses an ECS capacity provider with managed scaling and managed termination protection', () => {
    template.hasResourceProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({
        ManagedScaling: Match.objectLike({ Status: 'ENABLED' }),
        ManagedTerminationProtection: 'ENABLED',
      }),
    });
    template.hasResourceProperties('AWS::ECS::Service', {
      DesiredCount: 0,
      CapacityProviderStrategy: [Match.objectLike({ Weight: 1 })],
    });
  });

  it('runs one GPU per task from the worker image asset, with CUDA and a readiness health check', () => {
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [
        Match.objectLike({
          ResourceRequirements: [{ Type: 'GPU', Value: '1' }],
          Image: { 'Fn::Sub': Match.stringLikeRegexp('container-assets') },
          // Whether the worker takes jobs (/readyz), not only whether it answers (/healthz).
          HealthCheck: Match.objectLike({
            Command: Match.arrayWith(['CMD', Match.stringLikeRegexp("^fetch\\('http://127\\.0\\.0\\.1:9091/readyz'\\)")]),
          }),
        }),
      ],
    });
    const [, taskDef] = ofType('AWS::ECS::TaskDefinition')[0]!;
    const env = Object.fromEntries(
      (taskDef.Properties.ContainerDefinitions[0].Environment as { Name: string; Value: unknown }[]).map((e) => [e.Name, e.Value]),
    );
    expect(env).toMatchObject({
      EXECUTION_PROVIDER: 'cuda',
      STORE: 's3',
      QUEUE: 'sqs',
      S3_BUCKET: { Ref: dataBucketId() },
      SQS_QUEUE_URL: { Ref: jobQueueId() },
      MODELS: presentShipped.map((dir) => `/app/${dir}`).join(','),
      WORKER_HEALTH_PORT: '9091',
      WORKER_MAX_BATCH: String(DEFAULTS.workerMaxBatch),
      VISIBILITY_TIMEOUT_SECONDS: String(DEFAULTS.visibilityTimeoutSeconds),
      AWS_REGION: { Ref: 'AWS::Region' },
    });
    const assets = JSON.parse(readFileSync(path.join(outdir, 'UnifiedModel.assets.json'), 'utf8'));
    const images = Object.values(assets.dockerImages) as { source: Record<string, unknown> }[];
    expect(images).toHaveLength(1);
    expect(images[0]!.source).toMatchObject({
      dockerFile: 'gpu-worker/Dockerfile',
      platform: 'linux/amd64',
      dockerBuildArgs: { MODELS: presentShipped.join(',') },
    });
  });

  it('scales the service between 0 and maxWorkers', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', {
      MinCapacity: 0,
      MaxCapacity: DEFAULTS.maxWorkers,
      ScalableDimension: 'ecs:service:DesiredCount',
    });
  });

  it('tracks backlog per worker = (visible + not visible) / max(running tasks, 1)', () => {
    const policy = ofType('AWS::ApplicationAutoScaling::ScalingPolicy')
      .map(([, r]) => r.Properties)
      .find((p) => p.PolicyType === 'TargetTrackingScaling');
    expect(policy).toBeDefined();
    const spec = policy!.TargetTrackingScalingPolicyConfiguration;
    expect(spec.TargetValue).toBe(DEFAULTS.workerMaxBatch);
    const metrics = spec.CustomizedMetricSpecification.Metrics as any[];
    const names = metrics.filter((m) => m.MetricStat).map((m) => m.MetricStat.Metric.MetricName);
    expect(names).toEqual(
      expect.arrayContaining(['ApproximateNumberOfMessagesVisible', 'ApproximateNumberOfMessagesNotVisible', 'RunningTaskCount']),
    );
    const returned = metrics.filter((m) => m.ReturnData !== false);
    expect(returned).toHaveLength(1);
    expect(returned[0].Expression).toBe('(waiting + inflight) / IF(running > 1, running, 1)');
  });

  it('scales from zero to one worker when jobs wait and none is in flight', () => {
    const policyId = logicalIdOfType(
      'AWS::ApplicationAutoScaling::ScalingPolicy',
      (p) => p.PolicyType === 'StepScaling' && p.StepScalingPolicyConfiguration.StepAdjustments[0].ScalingAdjustment === 1,
    );
    expect(resources[policyId]!.Properties.StepScalingPolicyConfiguration).toMatchObject({
      AdjustmentType: 'ExactCapacity',
      StepAdjustments: [{ MetricIntervalLowerBound: 0, ScalingAdjustment: 1 }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: policyId }],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(waiting >= 1 AND inflight == 0, 1, 0)' })]),
    });
  });

  it('scales to zero when nothing waits and nothing is in flight', () => {
    const policyId = logicalIdOfType(
      'AWS::ApplicationAutoScaling::ScalingPolicy',
      (p) => p.PolicyType === 'StepScaling' && p.StepScalingPolicyConfiguration.StepAdjustments[0].ScalingAdjustment === 0,
    );
    expect(resources[policyId]!.Properties.StepScalingPolicyConfiguration).toMatchObject({
      AdjustmentType: 'ExactCapacity',
      StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 0 }],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmActions: [{ Ref: policyId }],
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      Threshold: 0,
      EvaluationPeriods: DEFAULTS.scaleToZeroAfterMinutes,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'waiting + inflight' })]),
    });
  });
});

describe('IAM', () => {
  type Statement = { Effect: string; Action: string | string[]; Resource: unknown; Condition?: unknown };
  const statements = (): Statement[] => ofType('AWS::IAM::Policy').flatMap(([, r]) => r.Properties.PolicyDocument.Statement as Statement[]);
  const actions = (s: Statement) => (Array.isArray(s.Action) ? s.Action : [s.Action]);
  const resourcesOf = (s: Statement) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]);

  it('never grants an S3 or SQS action on "*"', () => {
    const wide = statements().filter((s) => actions(s).some((a) => /^(s3|sqs):/.test(a)) && resourcesOf(s).some((r) => r === '*'));
    expect(wide).toEqual([]);
  });

  it('never grants s3:* or sqs:* wildcards of actions', () => {
    const all = statements().flatMap(actions);
    expect(all.filter((a) => a === 's3:*' || a === 'sqs:*' || a === '*')).toEqual([]);
  });

  it('scopes every S3 and SQS grant to the data bucket (and its prefixes) or the two queues', () => {
    const bucket = dataBucketId();
    const queueIds = ofType('AWS::SQS::Queue').map(([id]) => id);
    for (const s of statements()) {
      for (const action of actions(s)) {
        if (action.startsWith('s3:')) {
          for (const r of resourcesOf(s)) {
            const json = JSON.stringify(r);
            expect(json, `${action} on ${json}`).toMatch(new RegExp(`"${bucket}"`));
            expect(json).toMatch(/"Arn"\]\}(,"\/(jobs|inputs|outputs|idempotency|ratelimit)\/\*")?/);
          }
        }
        if (action.startsWith('sqs:')) {
          for (const r of resourcesOf(s)) {
            expect(queueIds).toContain((r as { 'Fn::GetAtt': [string, string] })['Fn::GetAtt'][0]);
          }
        }
      }
    }
  });

  it('lets the edge only send to the job queue (and read its length), never receive', () => {
    const fn = logicalIdOfType('AWS::Lambda::Function', (p) => p.Handler === 'index.handler');
    const roleId = resources[fn]!.Properties.Role['Fn::GetAtt'][0] as string;
    const policy = ofType('AWS::IAM::Policy').find(([, r]) => JSON.stringify(r.Properties.Roles).includes(roleId));
    const edgeActions = (policy![1].Properties.PolicyDocument.Statement as Statement[]).flatMap(actions);
    expect(edgeActions.filter((a) => a.startsWith('sqs:')).sort()).toEqual(['sqs:GetQueueAttributes', 'sqs:SendMessage']);
    expect(edgeActions).not.toContain('s3:DeleteObject');
  });

  it('lets the worker queue webhook events and their retries on the job queue', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: 'QueueWebhookEvents', Action: 'sqs:SendMessage', Resource: { 'Fn::GetAtt': [jobQueueId(), 'Arn'] } }),
        ]),
      },
    });
  });

  it('gives the workers WEBHOOK_SECRETS from Secrets Manager and the edge from a NoEcho parameter, never in the template', () => {
    const params = template.toJSON().Parameters as Record<string, { NoEcho?: boolean; Default?: string }>;
    expect(params['WebhookSecrets']).toMatchObject({ NoEcho: true, Default: '' });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([
        Match.objectLike({ Secrets: [Match.objectLike({ Name: 'WEBHOOK_SECRETS', ValueFrom: Match.anyValue() })] }),
      ]),
    });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ WEBHOOK_SECRETS: { Ref: 'WebhookSecrets' } }) },
    });
  });

  it('lets the worker consume the queue and its dead-letter queue', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            // CDK sorts actions and resources.
            Action: Match.arrayWith(['sqs:ChangeMessageVisibility', 'sqs:DeleteMessage', 'sqs:ReceiveMessage']),
            Resource: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('DeadLetterQueue'), 'Arn'] }, { 'Fn::GetAtt': [jobQueueId(), 'Arn'] }],
          }),
        ]),
      },
    });
  });
});

describe('outputs', () => {
  it('tells the API URL, the bucket and the queue', () => {
    const outputs = template.toJSON().Outputs as Record<string, unknown>;
    expect(Object.keys(outputs)).toEqual(expect.arrayContaining(['ApiUrl', 'BucketName', 'QueueUrl']));
  });
});

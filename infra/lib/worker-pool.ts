/**
 * The GPU worker pool: an ECS cluster whose capacity is an EC2 Auto Scaling group of
 * single-GPU instances (minimum 0), and an ECS service of worker tasks (one GPU each)
 * whose desired count follows the job queue's backlog, down to zero when idle.
 *
 * Networking: no NAT gateway (it costs money every hour, idle or not). The instances sit
 * in public subnets with a public IP, behind a security group with no inbound rule at all;
 * they only call out (ECS, ECR, S3, SQS, CloudWatch) over TLS.
 */
import { Duration, Stack, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { InfraConfig } from './config.js';
import { acknowledgeBucketPrefixes, defaultPolicyOf, logicalIdOf } from './nag.js';
import { workerEnvironment } from './service-env.js';
import { PREFIX } from './storage.js';

export interface WorkerPoolProps {
  readonly config: InfraConfig;
  /** The worker image (gpu-worker/Dockerfile), built and pushed by `cdk deploy`. */
  readonly image: ecs.ContainerImage;
  /** Where the model packages lie inside the image (MODELS), the default first. */
  readonly modelDirs: readonly string[];
  readonly bucket: s3.IBucket;
  readonly logBucket: s3.IBucket;
  readonly queue: sqs.IQueue;
  readonly deadLetterQueue: sqs.IQueue;
  /** A secret whose JSON field WEBHOOK_SECRETS ECS hands to the container (never in the task definition). */
  readonly webhookSecrets: secretsmanager.ISecret;
}

/** Port of the worker's health endpoints (GET /healthz liveness, GET /readyz readiness), inside the container. */
export const WORKER_HEALTH_PORT = 9091;
/** Time a worker gets after SIGTERM to release its messages before SIGKILL (the ECS maximum). */
export const WORKER_STOP_TIMEOUT_SECONDS = 120;

export class WorkerPool extends Construct {
  readonly cluster: ecs.Cluster;
  readonly service: ecs.Ec2Service;
  readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  readonly taskRole: iam.Role;

  constructor(scope: Construct, id: string, props: WorkerPoolProps) {
    super(scope, id);
    const { config } = props;
    const stack = Stack.of(this);

    const vpc = new ec2.Vpc(this, 'Vpc', {
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 }],
      flowLogs: {
        toS3: {
          destination: ec2.FlowLogDestination.toS3(props.logBucket, 'vpc-flow-logs/'),
          trafficType: ec2.FlowLogTrafficType.REJECT,
        },
      },
    });
    const securityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc,
      description: 'GPU workers: no inbound rules; outbound HTTPS to AWS APIs and the image registry.',
      allowAllOutbound: true,
    });

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc,
      // Container Insights supplies RunningTaskCount for the backlog-per-worker metric.
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });

    this.autoScalingGroup = new autoscaling.AutoScalingGroup(this, 'GpuInstances', {
      vpc,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      associatePublicIpAddress: true,
      securityGroup,
      instanceType: new ec2.InstanceType(config.gpuInstanceType),
      // ECS GPU-optimized Amazon Linux 2023: NVIDIA driver, container toolkit, ECS agent
      // with GPU support. (Amazon Linux 2's ECS AMI reached end of support in June 2026.)
      // One named release, resolved per region from its public SSM parameter at deploy.
      machineImage: ec2.MachineImage.fromSsmParameter(gpuAmiParameter(config.gpuAmiName)),
      minCapacity: 0,
      maxCapacity: config.maxWorkers,
      requireImdsv2: true,
      blockDevices: [
        {
          deviceName: '/dev/xvda',
          // The CUDA image is ~10 GB unpacked; leave room for one update next to it.
          volume: autoscaling.BlockDeviceVolume.ebs(100, {
            encrypted: true,
            volumeType: autoscaling.EbsDeviceVolumeType.GP3,
            deleteOnTermination: true,
          }),
        },
      ],
    });

    // IMDSv2 with a hop limit of 1: the ECS agent (host network) reaches the instance
    // metadata, containers (one hop further, behind the docker bridge) do not, so a task
    // cannot borrow the instance role. AL2023 AMIs would default to 2.
    const launchTemplate = this.autoScalingGroup.node.findChild('LaunchTemplate').node.defaultChild as ec2.CfnLaunchTemplate;
    launchTemplate.addPropertyOverride('LaunchTemplateData.MetadataOptions.HttpPutResponseHopLimit', 1);

    const capacityProvider = new ecs.AsgCapacityProvider(this, 'GpuCapacityProvider', {
      autoScalingGroup: this.autoScalingGroup,
      enableManagedScaling: true,
      // Instances that run a task are protected from scale-in; ECS removes the
      // protection once the instance is empty.
      enableManagedTerminationProtection: true,
      enableManagedDraining: true,
      targetCapacityPercent: 100,
      machineImageType: ecs.MachineImageType.AMAZON_LINUX_2,
    });
    this.cluster.addAsgCapacityProvider(capacityProvider);

    // --- the task ---------------------------------------------------------------
    this.taskRole = new iam.Role(this, 'TaskRole', {
      assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com'),
      description: 'GPU worker: read jobs and inputs, write job status and images, consume the job queue and its DLQ.',
    });
    const bucketArn = props.bucket.bucketArn;
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ReadJobsInputsOutputs',
        actions: ['s3:GetObject'],
        resources: [
          `${bucketArn}/${PREFIX.jobs}*`,
          `${bucketArn}/${PREFIX.inputs}*`,
          `${bucketArn}/${PREFIX.outputs}*`,
          `${bucketArn}/${PREFIX.webhooks}*`,
        ],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'WriteStatusImagesAndWebhookLogs',
        actions: ['s3:PutObject'],
        resources: [`${bucketArn}/${PREFIX.jobs}*`, `${bucketArn}/${PREFIX.outputs}*`, `${bucketArn}/${PREFIX.webhooks}*`],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'NotFoundIs404',
        actions: ['s3:ListBucket'],
        resources: [bucketArn],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        sid: 'ConsumeJobs',
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
        resources: [props.queue.queueArn, props.deadLetterQueue.queueArn],
      }),
    );
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        // Webhook events and their delayed retries ride the job queue (shared/webhooks/).
        sid: 'QueueWebhookEvents',
        actions: ['sqs:SendMessage'],
        resources: [props.queue.queueArn],
      }),
    );
    const taskArns = `arn:${stack.partition}:ecs:${stack.region}:${stack.account}:task/${this.cluster.clusterName}/*`;
    this.taskRole.addToPolicy(
      new iam.PolicyStatement({
        // The ECS agent's task-protection endpoint ($ECS_AGENT_URI/task-protection/v1/state)
        // calls these with the task's role: a busy worker protects itself from scale-in.
        sid: 'ScaleInProtectionWhileBusy',
        actions: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
        resources: [taskArns],
      }),
    );

    const taskDefinition = new ecs.Ec2TaskDefinition(this, 'WorkerTask', {
      // Bridge mode: tasks share the instance's public IP for egress (awsvpc tasks on EC2
      // get no public IP and would need a NAT gateway).
      networkMode: ecs.NetworkMode.BRIDGE,
      taskRole: this.taskRole,
    });
    const logGroup = new logs.LogGroup(this, 'WorkerLogs', {
      retention: config.logRetentionDays as logs.RetentionDays,
    });
    taskDefinition.addContainer('worker', {
      image: props.image,
      gpuCount: 1,
      cpu: 3072,
      memoryReservationMiB: 12 * 1024,
      essential: true,
      stopTimeout: Duration.seconds(WORKER_STOP_TIMEOUT_SECONDS),
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup }),
      environment: workerEnvironment(config, {
        bucketName: props.bucket.bucketName,
        queueUrl: props.queue.queueUrl,
        deadLetterQueueUrl: props.deadLetterQueue.queueUrl,
        modelDirs: props.modelDirs,
        region: stack.region,
        healthPort: WORKER_HEALTH_PORT,
      }),
      secrets: { WEBHOOK_SECRETS: ecs.Secret.fromSecretsManager(props.webhookSecrets, 'WEBHOOK_SECRETS') },
      // Readiness, not liveness: a task is healthy only while it can take jobs (models loaded,
      // loop going round); a stuck loop fails it and ECS replaces the task.
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${WORKER_HEALTH_PORT}/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        interval: Duration.seconds(30),
        timeout: Duration.seconds(5),
        retries: 3,
        // Loading the model and creating the CUDA session takes a while on a cold instance.
        startPeriod: Duration.seconds(180),
      },
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The environment holds configuration only (bucket name, queue URLs, model path, batch size); the one secret (WEBHOOK_SECRETS) comes from Secrets Manager through `secrets`, and AWS credentials from the task role.',
    });

    this.service = new ecs.Ec2Service(this, 'WorkerService', {
      cluster: this.cluster,
      taskDefinition,
      // Application Auto Scaling owns the count from here on; CloudFormation never
      // touches it again unless this value changes in the template.
      desiredCount: 0,
      // Replace in place: a GPU freed by a stopped task is the one the new task needs.
      // A busy task holds scale-in protection, which deployments respect too.
      minHealthyPercent: 0,
      maxHealthyPercent: 100,
      circuitBreaker: { enable: true, rollback: true },
      capacityProviderStrategies: [{ capacityProvider: capacityProvider.capacityProviderName, weight: 1 }],
    });

    this.addScaling(props);
    this.acknowledgeFindings(props);
  }

  /**
   * Three policies on the service's desired count, all fed by the job queue:
   * - target tracking on backlog per worker = (waiting + in flight) / max(running, 1):
   *   grows and shrinks a running pool;
   * - step "from zero": messages wait and none is in flight for 2 minutes (nobody is
   *   working) -> exactly 1 worker; target tracking takes over once it runs;
   * - step "to zero": nothing waiting and nothing in flight for `scaleToZeroAfterMinutes`
   *   -> 0 workers. In-flight messages count, so a busy worker is never the reason to stop.
   */
  private addScaling(props: WorkerPoolProps): void {
    const { config, queue } = props;
    // minWorkers > 0 keeps warm workers (no cold start); Application Auto Scaling raises
    // the desired count from the template's 0 to minCapacity as soon as it registers.
    const scalable = this.service.autoScaleTaskCount({
      minCapacity: config.minWorkers,
      maxCapacity: config.maxWorkers,
    });
    const queueDims = [{ name: 'QueueName', value: queue.queueName }];
    const serviceDims = [
      { name: 'ClusterName', value: this.cluster.clusterName },
      { name: 'ServiceName', value: this.service.serviceName },
    ];

    new appscaling.CfnScalingPolicy(this, 'BacklogPerWorkerPolicy', {
      policyName: 'backlog-per-worker',
      policyType: 'TargetTrackingScaling',
      scalingTargetId: scalableTargetId(scalable),
      targetTrackingScalingPolicyConfiguration: {
        targetValue: config.backlogPerWorkerTarget,
        scaleOutCooldown: 60,
        scaleInCooldown: 300,
        customizedMetricSpecification: {
          metrics: [
            {
              id: 'waiting',
              metricStat: {
                metric: { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesVisible', dimensions: queueDims },
                stat: 'Average',
              },
              returnData: false,
            },
            {
              id: 'inflight',
              metricStat: {
                metric: { namespace: 'AWS/SQS', metricName: 'ApproximateNumberOfMessagesNotVisible', dimensions: queueDims },
                stat: 'Average',
              },
              returnData: false,
            },
            {
              id: 'running',
              metricStat: {
                metric: { namespace: 'ECS/ContainerInsights', metricName: 'RunningTaskCount', dimensions: serviceDims },
                stat: 'Average',
              },
              returnData: false,
            },
            {
              id: 'backlogPerWorker',
              label: 'Messages waiting or in flight per running worker',
              expression: '(waiting + inflight) / IF(running > 1, running, 1)',
              returnData: true,
            },
          ],
        },
      },
    });

    const waiting = queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) });
    const inflight = queue.metricApproximateNumberOfMessagesNotVisible({ period: Duration.minutes(1) });

    const fromZero = new appscaling.StepScalingAction(this, 'ScaleFromZero', {
      scalingTarget: scalable,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      cooldown: Duration.seconds(60),
    });
    fromZero.addAdjustment({ lowerBound: 0, adjustment: 1 });
    new cloudwatch.Alarm(this, 'WorkWaitingNoWorkerAlarm', {
      alarmDescription: 'Jobs wait and no worker holds any: start one worker (scale from zero).',
      metric: new cloudwatch.MathExpression({
        expression: 'IF(waiting >= 1 AND inflight == 0, 1, 0)',
        usingMetrics: {
          waiting: waiting.with({ statistic: cloudwatch.Stats.MINIMUM }),
          inflight: inflight.with({ statistic: cloudwatch.Stats.MAXIMUM }),
        },
        period: Duration.minutes(1),
      }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 2,
      datapointsToAlarm: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(new cwActions.ApplicationScalingAction(fromZero));

    const toZero = new appscaling.StepScalingAction(this, 'ScaleToZero', {
      scalingTarget: scalable,
      adjustmentType: appscaling.AdjustmentType.EXACT_CAPACITY,
      cooldown: Duration.seconds(60),
    });
    toZero.addAdjustment({ upperBound: 0, adjustment: 0 });
    new cloudwatch.Alarm(this, 'QueueIdleAlarm', {
      alarmDescription: `Nothing waiting and nothing in flight for ${config.scaleToZeroAfterMinutes} minutes: stop all workers (scale to zero).`,
      metric: new cloudwatch.MathExpression({
        expression: 'waiting + inflight',
        usingMetrics: {
          waiting: waiting.with({ statistic: cloudwatch.Stats.MAXIMUM }),
          inflight: inflight.with({ statistic: cloudwatch.Stats.MAXIMUM }),
        },
        period: Duration.minutes(1),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: config.scaleToZeroAfterMinutes,
      datapointsToAlarm: config.scaleToZeroAfterMinutes,
      // A queue with no traffic for hours stops publishing metrics: that is idle too.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    }).addAlarmAction(new cwActions.ApplicationScalingAction(toZero));
  }

  private acknowledgeFindings(props: WorkerPoolProps): void {
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-AS3',
      reason:
        'Scaling is driven and observed through ECS (capacity provider, service events) and the queue alarms; per-instance ASG notifications would add no signal.',
    });
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-EC26',
      reason: 'The root volume is encrypted through the launch template block device mapping (encrypted: true).',
    });
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-EC28',
      reason: 'Detailed (1-minute) EC2 monitoring is billed per instance; ECS Container Insights already reports the tasks.',
    });
    Validations.of(this.autoScalingGroup).acknowledge({
      id: 'AwsSolutions-EC29',
      reason:
        'Instances are disposable members of an Auto Scaling group; ECS managed termination protection keeps busy ones alive, API termination protection would block scale-in.',
    });
    acknowledgeBucketPrefixes(
      this.taskRole,
      props.bucket,
      [PREFIX.jobs, PREFIX.inputs, PREFIX.outputs, PREFIX.webhooks],
      'the worker reads/writes only under that prefix of this one bucket (put only on jobs/, outputs/ and webhooks/).',
    );
    Validations.of(defaultPolicyOf(this.taskRole)).acknowledge({
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:task/<${logicalIdOf(this.cluster)}>/*]`,
      reason:
        'Task ids are assigned at run time; the grant (Get/UpdateTaskProtection, used by the ECS agent endpoint for scale-in protection) is limited to tasks of this cluster.',
    });
    const instancePolicy = defaultPolicyOf(this.autoScalingGroup.role);
    Validations.of(instancePolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Action::ecs:Submit*]',
      reason:
        'The ECS container agent on the instance reports task and container state through ecs:SubmitTaskStateChange/SubmitContainerStateChange/SubmitAttachmentStateChanges, scoped to this cluster by CDK.',
    });
    Validations.of(instancePolicy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'The ECS container agent needs ecs:DiscoverPollEndpoint, ecr:GetAuthorizationToken and logs actions that do not support resource-level permissions (the same set as the AWS-managed AmazonEC2ContainerServiceforEC2Role, written out by CDK).',
    });
    const executionRole = this.service.taskDefinition.executionRole;
    if (!executionRole) throw new Error('worker task definition has no execution role');
    Validations.of(defaultPolicyOf(executionRole)).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason:
        'ecr:GetAuthorizationToken, which the execution role needs to pull the worker image, does not support resource-level permissions.',
    });
  }
}

/** The ScalableTarget's resource id in the form scaling policies want (service-namespace/resource/dimension ref). */
function scalableTargetId(scalable: ecs.ScalableTaskCount): string {
  const target = scalable.node.tryFindChild('Target') as appscaling.ScalableTarget | undefined;
  if (!target) throw new Error('scalable task count has no target');
  return target.scalableTargetId;
}

/** The public SSM parameter holding the AMI id of one ECS GPU-optimized AL2023 release. */
export function gpuAmiParameter(amiName: string): string {
  return `/aws/service/ecs/optimized-ami/amazon-linux-2023/gpu/${amiName}/image_id`;
}

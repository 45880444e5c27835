/**
 * The guard itself: a finding that nobody acknowledged must fail synthesis, so that the
 * stack test's clean synthesis means "no unacknowledged finding", not "nag did not run".
 */
import { rmSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { synthesize } from './synth.js';

describe('cdk-nag guard', () => {
  it('passes with the optional resources too (destroyData, alarm e-mail, g6, warm worker)', () => {
    const { template, outdir } = synthesize({
      context: { destroyData: 'true', alarmEmail: 'ops@example.com', gpuInstanceType: 'g6.xlarge', minWorkers: '1' },
    });
    rmSync(outdir, { recursive: true, force: true });
    template.resourceCountIs('Custom::S3AutoDeleteObjects', 2);
    template.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ InstanceType: 'g6.xlarge' }),
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 1 });
  });

  it('fails synthesis on an unacknowledged AwsSolutions finding', () => {
    expect(() =>
      synthesize({
        mutate: (stack) => {
          // No dead-letter queue, no TLS enforcement: AwsSolutions-SQS3 and SQS4.
          new sqs.Queue(stack, 'UnguardedQueue', { encryption: sqs.QueueEncryption.SQS_MANAGED });
        },
      }),
    ).toThrow(/AwsSolutions-SQS3[\s\S]*UnguardedQueue|UnguardedQueue[\s\S]*AwsSolutions-SQS3/);
  });
});

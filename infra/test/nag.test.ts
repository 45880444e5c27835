/**
 * The guard itself: a finding that nobody acknowledged must fail synthesis, so that the
 * stack test's clean synthesis means "no unacknowledged finding", not "nag did not run".
 */
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { describe, expect, it } from 'vitest';
import { synthesize } from './synth.js';

describe('cdk-nag guard', () => {
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

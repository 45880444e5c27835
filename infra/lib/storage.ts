/**
 * The data bucket (jobs/, inputs/, outputs/) and the bucket that receives its server
 * access logs (and the VPC flow logs).
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import type { InfraConfig } from './config.js';

/**
 * Key prefixes of the storage layout (shared/ports/store.ts), webhook delivery logs
 * (shared/webhooks/log.ts), and the edge's own: Idempotency-Key claims
 * (edge/idempotency/claims.ts) and per-tenant rate-limit counters (edge/rate-limit/store.ts).
 */
export const PREFIX = {
  jobs: 'jobs/',
  inputs: 'inputs/',
  outputs: 'outputs/',
  webhooks: 'webhooks/',
  idempotency: 'idempotency/',
  ratelimit: 'ratelimit/',
} as const;

/** An Idempotency-Key is honoured for 24 h; lifecycle rules count whole days, so its claim goes after 2. */
export const IDEMPOTENCY_EXPIRATION_DAYS = 2;
/** A rate-limit counter is read for two minutes; a day is the shortest lifecycle expiry. */
export const RATELIMIT_EXPIRATION_DAYS = 1;

export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly logBucket: s3.Bucket;

  constructor(scope: Construct, id: string, config: InfraConfig) {
    super(scope, id);
    const removal = config.destroyData
      ? { removalPolicy: RemovalPolicy.DESTROY, autoDeleteObjects: true }
      : { removalPolicy: RemovalPolicy.RETAIN };

    this.logBucket = new s3.Bucket(this, 'LogBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      // Server access logging only delivers to SSE-S3 buckets.
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      lifecycleRules: [{ id: 'expire-logs', expiration: Duration.days(90) }],
      ...removal,
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason:
        'This is the access-log bucket itself: logging it into itself would loop and logging it elsewhere needs a third bucket that would raise the same finding.',
    });

    this.bucket = new s3.Bucket(this, 'DataBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // Versioning off: every object is written under a deterministic key and may be
      // rewritten on a redelivered job (the same bytes), and a job record is rewritten at
      // every status/progress change; versions would only keep stale copies that cost
      // storage and outlive the lifecycle expiry of the current ones.
      versioned: false,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'data-bucket/',
      lifecycleRules: [
        { id: 'expire-inputs', prefix: PREFIX.inputs, expiration: Duration.days(config.inputsExpirationDays) },
        { id: 'expire-outputs', prefix: PREFIX.outputs, expiration: Duration.days(config.outputsExpirationDays) },
        { id: 'expire-jobs', prefix: PREFIX.jobs, expiration: Duration.days(config.jobsExpirationDays) },
        // A job's webhook delivery log lives as long as its record.
        { id: 'expire-webhook-logs', prefix: PREFIX.webhooks, expiration: Duration.days(config.jobsExpirationDays) },
        { id: 'expire-idempotency-keys', prefix: PREFIX.idempotency, expiration: Duration.days(IDEMPOTENCY_EXPIRATION_DAYS) },
        { id: 'expire-rate-limit-counters', prefix: PREFIX.ratelimit, expiration: Duration.days(RATELIMIT_EXPIRATION_DAYS) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      ...removal,
    });
  }
}

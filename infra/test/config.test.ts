import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, readConfig } from '../lib/config.js';

const configOf = (context: Record<string, unknown>) => readConfig(new App({ context }).node);

describe('configuration from CDK context', () => {
  it('defaults to g5.xlarge, 0..4 workers, 7-day expiry', () => {
    const config = configOf({});
    expect(config).toEqual(DEFAULTS);
    expect(config.gpuInstanceType).toBe('g5.xlarge');
    expect(config.backlogPerWorkerTarget).toBe(config.workerMaxBatch);
  });

  it('accepts g6 instances and string values from -c key=value', () => {
    const config = configOf({ gpuInstanceType: 'g6.xlarge', maxWorkers: '10', workerMaxBatch: '16', destroyData: 'true' });
    expect(config).toMatchObject({ gpuInstanceType: 'g6.xlarge', maxWorkers: 10, workerMaxBatch: 16, destroyData: true });
    expect(config.backlogPerWorkerTarget).toBe(16);
  });

  it('rejects instance types without an NVIDIA GPU', () => {
    expect(() => configOf({ gpuInstanceType: 'm7i.xlarge' })).toThrow(/gpuInstanceType/);
    expect(() => configOf({ gpuInstanceType: 'inf2.xlarge' })).toThrow(/gpuInstanceType/);
  });

  it('takes another ECS GPU AMI release by name and rejects anything else (a "recommended" alias, another OS)', () => {
    expect(configOf({ gpuAmiName: 'al2023-ami-ecs-gpu-hvm-2023.0.20261030-kernel-6.1-x86_64-ebs' }).gpuAmiName).toBe(
      'al2023-ami-ecs-gpu-hvm-2023.0.20261030-kernel-6.1-x86_64-ebs',
    );
    expect(() => configOf({ gpuAmiName: 'recommended' })).toThrow(/gpuAmiName/);
    expect(() => configOf({ gpuAmiName: 'al2023-ami-ecs-hvm-2023.0.20261113-kernel-6.1-x86_64' })).toThrow(/gpuAmiName/);
  });

  it('rejects out-of-range numbers and retention periods CloudWatch does not offer', () => {
    expect(() => configOf({ maxWorkers: 0 })).toThrow(/maxWorkers/);
    expect(() => configOf({ workerMaxBatch: 'eight' })).toThrow(/workerMaxBatch/);
    expect(() => configOf({ logRetentionDays: 10 })).toThrow(/logRetentionDays/);
    expect(() => configOf({ minWorkers: 5, maxWorkers: 4 })).toThrow(/minWorkers/);
  });

  it('reads the per-tenant rate limit (0: none)', () => {
    expect(configOf({}).rateLimitPerMinute).toBe(120);
    expect(configOf({ rateLimitPerMinute: '0' }).rateLimitPerMinute).toBe(0);
    expect(() => configOf({ rateLimitPerMinute: -1 })).toThrow(/rateLimitPerMinute/);
  });

  it('refuses job records that outlive their images', () => {
    expect(() => configOf({ jobsExpirationDays: 30, outputsExpirationDays: 7 })).toThrow(/jobsExpirationDays/);
  });
});

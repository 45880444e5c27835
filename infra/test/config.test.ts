import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { App } from 'aws-cdk-lib';
import { describe, expect, it } from 'vitest';
import { DEFAULTS, readConfig, SHIPPED_MODELS } from '../lib/config.js';
import { REPO_ROOT } from '../scripts/bundle-edge.js';

const configOf = (context: Record<string, unknown>, hasPackage?: (dir: string) => boolean) =>
  readConfig(new App({ context }).node, hasPackage ? { hasPackage } : {});
/** The shipped packages in this checkout (emoji64 appears once exported). */
const presentShipped = SHIPPED_MODELS.filter((dir) => existsSync(path.join(REPO_ROOT, dir, 'manifest.json')));

describe('configuration from CDK context', () => {
  it('defaults to g5.xlarge, 0..4 workers, 7-day expiry', () => {
    const config = configOf({});
    expect(config).toEqual({ ...DEFAULTS, models: presentShipped });
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

  describe('models', () => {
    const all = () => true;
    it('defaults to the shipped packages that are there, shapes64 first', () => {
      expect(SHIPPED_MODELS).toEqual(['packages/shapes64', 'packages/emoji64']);
      expect(configOf({}, all).models).toEqual(['packages/shapes64', 'packages/emoji64']);
      expect(configOf({}, (d) => d === 'packages/shapes64').models).toEqual(['packages/shapes64']);
      expect(() => configOf({}, () => false)).toThrow(/no shipped model package/);
    });

    it('takes "models" (comma-separated, from -c) and "modelDir" (one folder)', () => {
      expect(configOf({ models: 'packages/tiny, packages/shapes64/' }, all).models).toEqual(['packages/tiny', 'packages/shapes64']);
      expect(configOf({ models: ['packages/a', 'packages/b'] }, all).models).toEqual(['packages/a', 'packages/b']);
      expect(configOf({ modelDir: 'packages/tiny' }, all).models).toEqual(['packages/tiny']);
    });

    it('refuses a named folder without a package, one outside the repository, duplicates, and both keys', () => {
      expect(() => configOf({ models: 'packages/shapes64,packages/nope' }, (d) => d === 'packages/shapes64')).toThrow(
        /context "models": no model package at packages\/nope/,
      );
      expect(() => configOf({ modelDir: '/abs/pkg' }, all)).toThrow(
        /context "modelDir": \/abs\/pkg must be a folder inside the repository/,
      );
      expect(() => configOf({ models: '../x' }, all)).toThrow(/inside the repository/);
      expect(() => configOf({ models: 'packages/a,packages/a' }, all)).toThrow(/lists a folder twice/);
      expect(() => configOf({ models: 'packages/a', modelDir: 'packages/a' }, all)).toThrow(/both set/);
      expect(() => configOf({ models: ' , ' }, all)).toThrow(/names no model package folder/);
    });
  });
});

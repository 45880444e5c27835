/**
 * Deploy-time configuration, read from CDK context (`cdk.json` "context", or
 * `npx cdk deploy -c key=value`). Every key has a default; bad values fail synth with a
 * message that names the key.
 */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Node } from 'constructs';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The shipped model packages, the default model first (the same list as shared/config's default). */
export const SHIPPED_MODELS: readonly string[] = ['packages/shapes64', 'packages/emoji64'];

export interface InfraConfig {
  /** EC2 instance type of the GPU pool: one NVIDIA GPU per instance (g5.xlarge: A10G 24 GB; g6.xlarge: L4 24 GB). */
  readonly gpuInstanceType: string;
  /**
   * The ECS GPU-optimized Amazon Linux 2023 AMI release the GPU instances boot, by name.
   * Pinned, not "recommended": its NVIDIA driver must support the worker image's CUDA major
   * (CUDA 13 needs driver >= 580; see docs/deploy.md), and a driver change should be a deploy
   * someone chose, not a side effect of the next `cdk deploy`.
   */
  readonly gpuAmiName: string;
  /** Lower bound on worker tasks. 0 (default) scales to zero when idle; 1 trades ~$1/h for no cold start. */
  readonly minWorkers: number;
  /** Upper bound on GPU instances (and worker tasks: one task per GPU). */
  readonly maxWorkers: number;
  /** Jobs one worker denoises together per step (WORKER_MAX_BATCH). */
  readonly workerMaxBatch: number;
  /** Target of the scaling policy: messages (waiting + in flight) per running worker. */
  readonly backlogPerWorkerTarget: number;
  /** Minutes with an empty queue (nothing waiting, nothing in flight) before the pool goes to zero. */
  readonly scaleToZeroAfterMinutes: number;
  /** Default SQS visibility timeout; the worker extends it with heartbeats while it works. */
  readonly visibilityTimeoutSeconds: number;
  /** Alarm when the oldest waiting message is older than this. */
  readonly queueAgeAlarmSeconds: number;
  /** Days after which objects under each prefix are deleted. */
  readonly inputsExpirationDays: number;
  readonly outputsExpirationDays: number;
  readonly jobsExpirationDays: number;
  /** Days CloudWatch keeps logs (Lambda, API access log, worker). */
  readonly logRetentionDays: number;
  /** HTTP API throttling (requests per second, burst). */
  readonly apiRateLimit: number;
  readonly apiBurstLimit: number;
  /** RATE_LIMIT_PER_MINUTE: requests one tenant may make to /v1 in a sliding minute, counted across every edge instance; 0: no per-tenant limit. */
  readonly rateLimitPerMinute: number;
  /**
   * Model package folders, relative to the repository root, the default model first: the
   * edge bundle and the worker image hold them all (MODELS). Default: the shipped packages
   * that are in the repository.
   */
  readonly models: readonly string[];
  /** LOG_LEVEL for the edge and the worker. */
  readonly logLevel: string;
  /** Optional e-mail address subscribed to the alarm topic. */
  readonly alarmEmail: string | undefined;
  /**
   * Delete the buckets and every object in them on `cdk destroy`. Off by default: the
   * buckets (job records, images, access logs) are retained and must be emptied by hand.
   */
  readonly destroyData: boolean;
}

export const DEFAULTS: InfraConfig = {
  gpuInstanceType: 'g5.xlarge',
  // Released 2026-11-13: NVIDIA driver 580.178.04 (aws/amazon-ecs-ami release 20261113).
  gpuAmiName: 'al2023-ami-ecs-gpu-hvm-2023.0.20261113-kernel-6.1-x86_64-ebs',
  minWorkers: 0,
  maxWorkers: 4,
  workerMaxBatch: 8,
  backlogPerWorkerTarget: 8,
  scaleToZeroAfterMinutes: 15,
  visibilityTimeoutSeconds: 300,
  queueAgeAlarmSeconds: 900,
  inputsExpirationDays: 7,
  outputsExpirationDays: 7,
  jobsExpirationDays: 7,
  logRetentionDays: 30,
  apiRateLimit: 50,
  apiBurstLimit: 100,
  rateLimitPerMinute: 120,
  models: SHIPPED_MODELS,
  logLevel: 'info',
  alarmEmail: undefined,
  destroyData: false,
};

/** Names of ECS GPU-optimized Amazon Linux 2023 AMI releases (x86_64). */
const GPU_AMI_NAME = /^al2023-ami-ecs-gpu-hvm-2023\.0\.\d{8}-kernel-\d+\.\d+-x86_64-ebs$/;

/** GPU instance families this stack is written for: one NVIDIA GPU on the .xlarge .. .8xlarge sizes. */
const GPU_INSTANCE = /^(g4dn|g5|g6|g6e|gr6)\.(xlarge|2xlarge|4xlarge|8xlarge|16xlarge)$/;

function intValue(node: Node, key: keyof InfraConfig, min: number, max: number): number {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return DEFAULTS[key] as number;
  const value = typeof raw === 'number' ? raw : Number(String(raw));
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`context "${key}" must be an integer in ${min}..${max}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

function stringValue(node: Node, key: keyof InfraConfig): string | undefined {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return DEFAULTS[key] as string | undefined;
  return String(raw);
}

function boolValue(node: Node, key: keyof InfraConfig): boolean {
  const raw: unknown = node.tryGetContext(key);
  if (raw === undefined || raw === null || raw === '') return DEFAULTS[key] as boolean;
  if (raw === true || raw === 'true') return true;
  if (raw === false || raw === 'false') return false;
  throw new Error(`context "${key}" must be true or false, got ${JSON.stringify(raw)}`);
}

/** The values CloudWatch Logs accepts for a retention period. */
const RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

function retentionDays(node: Node): number {
  const value = intValue(node, 'logRetentionDays', 1, 3653);
  if (!RETENTION_DAYS.includes(value)) {
    throw new Error(`context "logRetentionDays" must be one of ${RETENTION_DAYS.join(', ')}, got ${value}`);
  }
  return value;
}

/**
 * The `models` context (comma-separated folders), or `modelDir` (one folder); a named folder
 * must hold a package. Unset: the shipped packages present, skipping one not exported yet.
 */
function modelsValue(node: Node, exists: (dir: string) => boolean): readonly string[] {
  const list: unknown = node.tryGetContext('models');
  const one: unknown = node.tryGetContext('modelDir');
  const given = (v: unknown) => v !== undefined && v !== null && v !== '';
  if (given(list) && given(one)) throw new Error('context "models" and "modelDir" are both set: use "models" (comma-separated) alone');
  const key = given(list) ? 'models' : 'modelDir';
  const raw = given(list) ? list : one;
  if (!given(raw)) {
    const present = SHIPPED_MODELS.filter(exists);
    if (present.length === 0)
      throw new Error(`no shipped model package in the repository (${SHIPPED_MODELS.join(', ')}): export one, or set context "models"`);
    return present;
  }
  const dirs = (Array.isArray(raw) ? raw.map(String) : String(raw).split(','))
    .map((d) => d.trim().replace(/\/+$/, ''))
    .filter((d) => d.length > 0);
  if (dirs.length === 0) throw new Error(`context "${key}" names no model package folder`);
  for (const dir of dirs) {
    if (path.isAbsolute(dir) || dir.split('/').includes('..'))
      throw new Error(`context "${key}": ${dir} must be a folder inside the repository, relative to its root`);
    if (!exists(dir)) throw new Error(`context "${key}": no model package at ${dir} (manifest.json missing)`);
  }
  if (new Set(dirs).size !== dirs.length) throw new Error(`context "${key}" lists a folder twice: ${dirs.join(', ')}`);
  return dirs;
}

export interface ReadConfigOptions {
  /** Whether a folder (relative to the repository root) holds a model package; tests inject one. */
  readonly hasPackage?: (dir: string) => boolean;
}

export function readConfig(node: Node, options: ReadConfigOptions = {}): InfraConfig {
  const hasPackage = options.hasPackage ?? ((dir: string) => existsSync(path.join(REPO_ROOT, dir, 'manifest.json')));
  const gpuInstanceType = stringValue(node, 'gpuInstanceType')!;
  if (!GPU_INSTANCE.test(gpuInstanceType)) {
    throw new Error(
      `context "gpuInstanceType" must be a single-GPU NVIDIA instance (g5/g6/g6e/g4dn .xlarge..16xlarge), got "${gpuInstanceType}"`,
    );
  }
  const gpuAmiName = stringValue(node, 'gpuAmiName')!;
  if (!GPU_AMI_NAME.test(gpuAmiName)) {
    throw new Error(
      `context "gpuAmiName" must name an ECS GPU-optimized Amazon Linux 2023 AMI release (al2023-ami-ecs-gpu-hvm-2023.0.YYYYMMDD-kernel-6.1-x86_64-ebs), got "${gpuAmiName}"`,
    );
  }
  const workerMaxBatch = intValue(node, 'workerMaxBatch', 1, 256);
  const config: InfraConfig = {
    gpuInstanceType,
    gpuAmiName,
    minWorkers: intValue(node, 'minWorkers', 0, 100),
    maxWorkers: intValue(node, 'maxWorkers', 1, 100),
    workerMaxBatch,
    backlogPerWorkerTarget:
      node.tryGetContext('backlogPerWorkerTarget') === undefined ? workerMaxBatch : intValue(node, 'backlogPerWorkerTarget', 1, 10_000),
    scaleToZeroAfterMinutes: intValue(node, 'scaleToZeroAfterMinutes', 1, 1440),
    visibilityTimeoutSeconds: intValue(node, 'visibilityTimeoutSeconds', 30, 43_200),
    queueAgeAlarmSeconds: intValue(node, 'queueAgeAlarmSeconds', 60, 86_400),
    inputsExpirationDays: intValue(node, 'inputsExpirationDays', 1, 3650),
    outputsExpirationDays: intValue(node, 'outputsExpirationDays', 1, 3650),
    jobsExpirationDays: intValue(node, 'jobsExpirationDays', 1, 3650),
    logRetentionDays: retentionDays(node),
    apiRateLimit: intValue(node, 'apiRateLimit', 1, 10_000),
    apiBurstLimit: intValue(node, 'apiBurstLimit', 1, 5_000),
    rateLimitPerMinute: intValue(node, 'rateLimitPerMinute', 0, 1_000_000),
    models: modelsValue(node, hasPackage),
    logLevel: stringValue(node, 'logLevel')!,
    alarmEmail: stringValue(node, 'alarmEmail'),
    destroyData: boolValue(node, 'destroyData'),
  };
  if (config.minWorkers > config.maxWorkers) {
    throw new Error(`context "minWorkers" (${config.minWorkers}) must not exceed "maxWorkers" (${config.maxWorkers})`);
  }
  if (config.jobsExpirationDays > config.outputsExpirationDays) {
    // A job record that outlives its images would answer with image URLs that 404.
    throw new Error(
      `context "jobsExpirationDays" (${config.jobsExpirationDays}) must not exceed "outputsExpirationDays" (${config.outputsExpirationDays})`,
    );
  }
  return config;
}

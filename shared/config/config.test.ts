import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_MODEL_DIR, FALLBACK_MODEL_DIR, isLoopbackHost, loadConfig } from './index.js';

const none = () => false;

function problems(env: Record<string, string>): string[] {
  try {
    loadConfig(env, { exists: none });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('has defaults for the embedded system', () => {
    const c = loadConfig({}, { cwd: '/srv', exists: () => true });
    expect(c).toMatchObject({
      port: 3000,
      host: '127.0.0.1',
      dataDir: '/srv/.data',
      modelDir: DEFAULT_MODEL_DIR,
      store: 'file',
      queue: 'sqlite',
      apiKeys: [],
      logLevel: 'info',
      executionProvider: 'cpu',
      workerMaxBatch: 'auto',
      workerConcurrency: 1,
      visibilityTimeoutSeconds: 60,
      warnings: [],
    });
  });

  it('falls back to the tiny package with a warning', () => {
    const c = loadConfig({}, { exists: none });
    expect(c.modelDir).toBe(FALLBACK_MODEL_DIR);
    expect(c.warnings[0]).toMatch(/MODEL_DIR/);
  });

  it('reads every variable and treats empty as unset', () => {
    const c = loadConfig(
      {
        PORT: '8080',
        HOST: '0.0.0.0',
        DATA_DIR: '/data',
        MODEL_DIR: 'models/m',
        STORE: 's3',
        QUEUE: 'sqs',
        S3_BUCKET: 'my-bucket',
        S3_ENDPOINT: 'http://127.0.0.1:7070',
        SQS_QUEUE_URL: 'http://127.0.0.1:9324/q',
        AWS_REGION: 'us-east-1',
        API_KEYS: ' key-one-1234, ,key-two-5678 ',
        LOG_LEVEL: 'debug',
        EXECUTION_PROVIDER: 'cuda',
        WORKER_MAX_BATCH: '16',
        SQS_DLQ_URL: '',
      },
      { cwd: '/w', exists: none },
    );
    expect(c).toMatchObject({
      port: 8080,
      modelDir: '/w/models/m',
      s3Bucket: 'my-bucket',
      apiKeys: ['key-one-1234', 'key-two-5678'],
      workerMaxBatch: 16,
      executionProvider: 'cuda',
    });
    expect(c.sqsDlqUrl).toBeUndefined();
  });

  it('names each bad variable and its value, but never a key', () => {
    const p = problems({ PORT: 'abc', STORE: 'disk', LOG_LEVEL: 'loud', WORKER_MAX_BATCH: '0', API_KEYS: 'short', S3_ENDPOINT: 'ftp://x' });
    expect(p).toHaveLength(6);
    expect(p.find((s) => s.startsWith('PORT:'))).toMatch(/"abc"/);
    expect(p.find((s) => s.startsWith('STORE:'))).toMatch(/"disk"/);
    expect(p.some((s) => s.startsWith('LOG_LEVEL:'))).toBe(true);
    expect(p.some((s) => s.startsWith('WORKER_MAX_BATCH:'))).toBe(true);
    expect(p.some((s) => s.startsWith('S3_ENDPOINT:'))).toBe(true);
    const keys = p.find((s) => s.startsWith('API_KEYS:'))!;
    expect(keys).not.toMatch(/short/);
  });

  it('checks fields that depend on each other', () => {
    expect(problems({ STORE: 's3' })).toEqual(['S3_BUCKET: required when STORE=s3', 'AWS_REGION: required when STORE=s3 or QUEUE=sqs']);
    expect(problems({ QUEUE: 'sqs', AWS_REGION: 'eu-west-1' })).toEqual(['SQS_QUEUE_URL: required when QUEUE=sqs']);
  });

  it('error message lists the problems', () => {
    expect(() => loadConfig({ PORT: '70000' }, { exists: none })).toThrow(/PORT: must be at most 65535/);
  });
});

describe('webhook settings', () => {
  const a = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  const b = 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD';

  it('reads per-tenant secrets, a fallback and the switches', () => {
    const c = loadConfig({ WEBHOOK_SECRETS: ` acme:${a}, globex:${b} `, WEBHOOK_SECRET: a, WEBHOOK_ALLOW_PRIVATE: '1', WEBHOOK_RETRY_BASE_MS: '250', WEBHOOK_TIMEOUT_MS: '2000' }, { exists: none });
    expect(c.webhooks).toEqual({ secrets: { byTenant: { acme: a, globex: b }, fallback: a }, allowPrivate: true, retryBaseMs: 250, timeoutMs: 2000 });
  });

  it('defaults to no secrets, private addresses refused, 10 s backoff base and timeout', () => {
    expect(loadConfig({}, { exists: none }).webhooks).toEqual({ secrets: { byTenant: {} }, allowPrivate: false, retryBaseMs: 10_000, timeoutMs: 10_000 });
  });

  it('refuses malformed entries and a tenant listed twice, never echoing a secret', () => {
    const p = problems({ WEBHOOK_SECRETS: `acme:${a},acme:${b}`, WEBHOOK_SECRET: 'not-a-secret', WEBHOOK_ALLOW_PRIVATE: 'yes' });
    expect(p.join('\n')).toContain('WEBHOOK_SECRET: must be whsec_<base64>');
    expect(p.join('\n')).toContain('WEBHOOK_ALLOW_PRIVATE');
    expect(p.join('\n')).not.toContain('not-a-secret');
    expect(problems({ WEBHOOK_SECRETS: `acme:${a},acme:${b}` })).toEqual(['WEBHOOK_SECRETS: tenant acme is listed twice']);
    expect(problems({ WEBHOOK_SECRETS: 'acme' })[0]).toMatch(/^WEBHOOK_SECRETS: each entry must be tenant:whsec_<base64>$/);
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['127.0.0.1', true],
    ['127.1.2.3', true],
    ['localhost', true],
    ['::1', true],
    ['[::1]', true],
    ['0.0.0.0', false],
    ['::', false],
    ['192.168.1.2', false],
  ])('%s -> %s', (host, expected) => expect(isLoopbackHost(host)).toBe(expected));
});

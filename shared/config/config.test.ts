import { describe, expect, it } from 'vitest';
import { apiKeys, ConfigError, FALLBACK_MODEL_DIR, isLoopbackHost, keyDigest, loadConfig, SHIPPED_MODEL_DIRS } from './index.js';

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
      modelDirs: SHIPPED_MODEL_DIRS,
      modelsFrom: 'default',
      store: 'file',
      queue: 'sqlite',
      apiKeys: [],
      logLevel: 'info',
      executionProvider: 'cpu',
      workerMaxBatch: 'auto',
      workerConcurrency: 1,
      visibilityTimeoutSeconds: 60,
      queueMaxReceiveCount: 3,
      warnings: [],
    });
  });

  it('falls back to the tiny package with a warning when no shipped package is there', () => {
    const c = loadConfig({}, { exists: none });
    expect(c.modelDirs).toEqual([FALLBACK_MODEL_DIR]);
    expect(c.warnings.at(-1)).toMatch(/MODELS unset.*fixture/);
  });

  it('reads every variable and treats empty as unset', () => {
    const c = loadConfig(
      {
        PORT: '8080',
        HOST: '0.0.0.0',
        DATA_DIR: '/data',
        MODELS: 'models/m',
        STORE: 's3',
        QUEUE: 'sqs',
        S3_BUCKET: 'my-bucket',
        S3_ENDPOINT: 'http://127.0.0.1:7070',
        SQS_QUEUE_URL: 'http://127.0.0.1:9324/q',
        AWS_REGION: 'us-east-1',
        API_KEYS: ' key-one-1234, ,acme:key-two-5678 ',
        RATE_LIMIT_PER_MINUTE: '120',
        LOG_LEVEL: 'debug',
        EXECUTION_PROVIDER: 'cuda',
        WORKER_MAX_BATCH: '16',
        QUEUE_MAX_RECEIVE_COUNT: '10',
        SQS_DLQ_URL: '',
      },
      { cwd: '/w', exists: () => true },
    );
    expect(c).toMatchObject({
      port: 8080,
      modelDirs: ['/w/models/m'],
      s3Bucket: 'my-bucket',
      apiKeys: apiKeys('key-one-1234', 'acme:key-two-5678'),
      rateLimitPerMinute: 120,
      workerMaxBatch: 16,
      executionProvider: 'cuda',
      queueMaxReceiveCount: 10,
    });
    expect(c.sqsDlqUrl).toBeUndefined();
  });

  it('names each bad variable and its value, but never a key', () => {
    const p = problems({
      PORT: 'abc',
      STORE: 'disk',
      LOG_LEVEL: 'loud',
      WORKER_MAX_BATCH: '0',
      API_KEYS: 'short',
      S3_ENDPOINT: 'ftp://x',
      QUEUE_MAX_RECEIVE_COUNT: '0',
    });
    expect(p).toHaveLength(7);
    expect(p.some((s) => s.startsWith('QUEUE_MAX_RECEIVE_COUNT:'))).toBe(true);
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
    const c = loadConfig(
      {
        WEBHOOK_SECRETS: ` acme:${a}, globex:${b} `,
        WEBHOOK_SECRET: a,
        WEBHOOK_ALLOW_PRIVATE: '1',
        WEBHOOK_RETRY_BASE_MS: '250',
        WEBHOOK_TIMEOUT_MS: '2000',
      },
      { exists: none },
    );
    expect(c.webhooks).toEqual({
      secrets: { byTenant: { acme: a, globex: b }, fallback: a },
      allowPrivate: true,
      retryBaseMs: 250,
      timeoutMs: 2000,
    });
  });

  it('defaults to no secrets, private addresses refused, 10 s backoff base and timeout', () => {
    expect(loadConfig({}, { exists: none }).webhooks).toEqual({
      secrets: { byTenant: {} },
      allowPrivate: false,
      retryBaseMs: 10_000,
      timeoutMs: 10_000,
    });
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

describe('API_KEYS', () => {
  it('reads tenant:key entries and bare keys, keeping only digests', () => {
    const [named, bare, colonKey] = loadConfig(
      { API_KEYS: 'acme:secret-key-1,lonely-key-99,not_a_tenant:x-key-1234' },
      { exists: none },
    ).apiKeys;
    expect(named).toEqual({ tenant: 'acme', digest: keyDigest('secret-key-1') });
    expect(bare).toEqual({ tenant: `_key-${keyDigest('lonely-key-99').slice(0, 16)}`, digest: keyDigest('lonely-key-99') });
    // "not_a_tenant" is a tenant name: its key is what follows the colon.
    expect(colonKey!.tenant).toBe('not_a_tenant');
    expect(JSON.stringify(loadConfig({ API_KEYS: 'acme:secret-key-1' }, { exists: none }))).not.toContain('secret-key-1');
  });

  it('treats an entry whose prefix is no tenant name as a bare key', () => {
    const [k] = apiKeys('-x:long-enough-key');
    expect(k!.tenant).toMatch(/^_key-[0-9a-f]{16}$/);
    expect(k!.digest).toBe(keyDigest('-x:long-enough-key'));
  });

  it('refuses a short key, a key listed twice, and never echoes either', () => {
    const short = problems({ API_KEYS: 'acme:short' });
    expect(short).toHaveLength(1);
    expect(short[0]).toMatch(/^API_KEYS: entry 1: each key must be 8-256/);
    const twice = problems({ API_KEYS: 'a:same-key-123,b:same-key-123' });
    expect(twice[0]).toMatch(/listed twice/);
    expect(twice.join()).not.toContain('same-key-123');
  });

  it('reads RATE_LIMIT_PER_MINUTE and URL_SIGNING_SECRET', () => {
    expect(problems({ RATE_LIMIT_PER_MINUTE: '0' })[0]).toMatch(/^RATE_LIMIT_PER_MINUTE: must be at least 1/);
    expect(problems({ URL_SIGNING_SECRET: 'too-short' })[0]).toMatch(/^URL_SIGNING_SECRET: must be at least 32/);
    expect(problems({ URL_SIGNING_SECRET: 'too-short' })[0]).not.toContain('too-short"');
    expect(loadConfig({ URL_SIGNING_SECRET: 's'.repeat(32) }, { exists: none }).urlSigningSecret).toBe('s'.repeat(32));
  });
});

describe('loadConfig: the models (MODELS, MODEL_DIR, the shipped default)', () => {
  const only =
    (...dirs: string[]) =>
    (path: string) =>
      dirs.some((d) => path === `${d}/manifest.json`);

  it('serves the shipped packages by default, shapes64 first, skipping one not there with a warning', () => {
    const [shapes, emoji] = SHIPPED_MODEL_DIRS as [string, string];
    expect(shapes).toMatch(/packages\/shapes64$/);
    expect(emoji).toMatch(/packages\/emoji64$/);
    const both = loadConfig({}, { exists: only(shapes, emoji) });
    expect(both.modelDirs).toEqual([shapes, emoji]);
    expect(both.warnings).toEqual([]);
    const one = loadConfig({}, { exists: only(shapes) });
    expect(one.modelDirs).toEqual([shapes]);
    expect(one.modelsFrom).toBe('default');
    expect(one.warnings).toEqual([expect.stringMatching(/shipped package .*packages\/emoji64 is not there/)]);
  });

  it('reads MODELS as comma-separated folders, relative to the working directory, the first the default', () => {
    const c = loadConfig({ MODELS: ' packages/tiny , /abs/emoji64,' }, { cwd: '/repo', exists: () => true });
    expect(c.modelDirs).toEqual(['/repo/packages/tiny', '/abs/emoji64']);
    expect(c.modelsFrom).toBe('MODELS');
    expect(c.warnings).toEqual([]);
  });

  it('takes MODEL_DIR as the one-folder form of MODELS', () => {
    const c = loadConfig({ MODEL_DIR: 'packages/tiny' }, { cwd: '/repo', exists: () => true });
    expect(c.modelDirs).toEqual(['/repo/packages/tiny']);
    expect(c.modelsFrom).toBe('MODEL_DIR');
  });

  it('stops on a named folder without a package, naming the variable and the folder; never skips it', () => {
    expect(problems({ MODELS: 'packages/tiny,/nowhere/x' })).toEqual([
      expect.stringMatching(/^MODELS: no model package at .*packages\/tiny \(manifest.json missing\)$/),
      'MODELS: no model package at /nowhere/x (manifest.json missing)',
    ]);
    expect(() => loadConfig({ MODELS: 'packages/tiny,/nowhere/x' }, { cwd: '/repo', exists: only('/repo/packages/tiny') })).toThrow(
      /MODELS: no model package at \/nowhere\/x/,
    );
    expect(problems({ MODEL_DIR: '/nowhere/y' })).toEqual(['MODEL_DIR: no model package at /nowhere/y (manifest.json missing)']);
  });

  it('refuses MODELS and MODEL_DIR together, a folder listed twice, and a list with no folder', () => {
    expect(problems({ MODELS: '/a', MODEL_DIR: '/b' })).toEqual([expect.stringMatching(/^MODEL_DIR: set MODELS or MODEL_DIR, not both/)]);
    expect(() => loadConfig({ MODELS: '/a,/b,/a/' }, { exists: () => true })).toThrow(/MODELS: \/a\/ is listed twice/);
    expect(problems({ MODELS: ' , ' })).toEqual([expect.stringMatching(/^MODELS: expected one or more comma-separated package folders/)]);
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

/**
 * The edge's Lambda bundle, built for real by scripts/bundle-edge.ts (the same function
 * the CDK app calls at synth) with every model the default deployment serves: it fits
 * Lambda's 250 MB unzipped limit, carries exactly one native onnxruntime build (linux/x64,
 * CPU) and of each model package only the graph the edge runs (no denoise cut, no second
 * precision), and the handler module loads from it and serves every model.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SHIPPED_MODELS } from '../lib/config.js';
import { type BundleReport, bundleEdge, EDGE_ENTRY, LAMBDA_UNZIPPED_LIMIT_BYTES, listFiles, REPO_ROOT } from '../scripts/bundle-edge.js';
import { edgePackageFiles } from '../scripts/edge-package.js';

interface PackageManifest {
  files: Record<string, unknown>;
  graph: { denoise_file?: string; variants?: Record<string, { denoise_file?: string }> };
}

const hasEdge = existsSync(path.join(REPO_ROOT, EDGE_ENTRY));
// Every shipped model that is there, and the test fixture: what the default deployment
// bundles, plus one model more, so that the size check has room for a package to come.
const models = [...SHIPPED_MODELS, 'packages/tiny'].filter((dir) => existsSync(path.join(REPO_ROOT, dir, 'manifest.json')));
const skipReason = !hasEdge
  ? `${EDGE_ENTRY} does not exist yet`
  : models.length < 2
    ? `fewer than two model packages (${SHIPPED_MODELS.join(', ')}, packages/tiny)`
    : undefined;
if (skipReason) console.warn(`edge bundle test skipped: ${skipReason}`);

describe.skipIf(skipReason !== undefined)(`edge Lambda bundle${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let outDir: string;
  let report: BundleReport;

  beforeAll(() => {
    outDir = path.join(mkdtempSync(path.join(os.tmpdir(), 'edge-bundle-')), 'asset');
    report = bundleEdge({ outDir, models });
  });
  afterAll(() => {
    if (outDir) rmSync(path.dirname(outDir), { recursive: true, force: true });
  });

  it('fits the Lambda limit of 250 MB unzipped, with room for another 30 MB package', () => {
    expect(report.totalBytes).toBeGreaterThan(0);
    expect(report.totalBytes).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
    // A package may be up to 30 MB (issue 11): one more must still fit.
    expect(report.totalBytes + 30 * 1024 * 1024).toBeLessThan(LAMBDA_UNZIPPED_LIMIT_BYTES);
    for (const model of models) expect(report.modelBytes[model]).toBeGreaterThan(0);
  });

  it('holds only the linux/x64 onnxruntime and sharp binaries, without GPU providers', () => {
    expect(report.nativeFiles.length).toBeGreaterThan(0);
    for (const file of report.nativeFiles) {
      expect(file).toMatch(
        /^node_modules\/(onnxruntime-node\/bin\/napi-v\d+\/linux\/x64|@img\/sharp-linux-x64\/lib|@img\/sharp-libvips-linux-x64\/lib)\/[^/]+$/,
      );
      expect(file).not.toMatch(/providers_(cuda|tensorrt)/);
    }
    expect(report.nativeFiles.some((f) => /sharp-linux-x64-[\d.]+\.node$/.test(f))).toBe(true);
    expect(report.nativeFiles.some((f) => /libvips-cpp\.so/.test(f))).toBe(true);
    expect(report.nativeFiles.some((f) => f.endsWith('/onnxruntime_binding.node'))).toBe(true);
    expect(report.nativeFiles.some((f) => /\/libonnxruntime\.so(\.\d+)*$/.test(f))).toBe(true);
  });

  it('has the handler module and every model package at its MODELS path', () => {
    const files = listFiles(outDir);
    expect(files).toContain('index.mjs');
    expect(files).toEqual(expect.arrayContaining(['dist/index.html', 'dist/playground.js', 'dist/playground.css']));
    for (const modelDir of models) {
      expect(files).toContain(`${modelDir}/manifest.json`);
      expect(files).toContain(`${modelDir}/tokenizer.json`);
      expect(files.some((f) => f.startsWith(`${modelDir}/`) && f.endsWith('.onnx'))).toBe(true);
    }
  });

  it('carries only the graph the edge runs of each package, never the worker-only graphs', () => {
    const files = listFiles(outDir);
    for (const modelDir of models) {
      const manifest = JSON.parse(readFileSync(path.join(REPO_ROOT, modelDir, 'manifest.json'), 'utf8')) as PackageManifest;
      const { keep } = edgePackageFiles(path.join(REPO_ROOT, modelDir));
      const inBundle = files.filter((f) => f.startsWith(`${modelDir}/`)).map((f) => f.slice(modelDir.length + 1));
      expect(inBundle.sort()).toEqual([...keep, 'omitted.json'].sort());
      // Exactly one graph: the serving graph of the precision the edge runs on the CPU.
      expect(inBundle.filter((f) => f.endsWith('.onnx'))).toHaveLength(1);
      const denoiseCuts = [manifest.graph.denoise_file, ...Object.values(manifest.graph.variants ?? {}).map((v) => v.denoise_file)].filter(
        (f): f is string => f !== undefined,
      );
      for (const cut of denoiseCuts) expect(inBundle).not.toContain(cut);
      const omitted = (JSON.parse(readFileSync(path.join(outDir, modelDir, 'omitted.json'), 'utf8')) as { omitted: string[] }).omitted;
      expect([...omitted, ...keep.filter((f) => f !== 'manifest.json')].sort()).toEqual(Object.keys(manifest.files).sort());
      expect(report.omittedFiles[modelDir]).toEqual(omitted);
    }
    // The shipped packages' int8 variants passed their quality check: the edge runs int8, so
    // their fp32 graph (model.onnx) and both denoise cuts stay with the worker.
    for (const shipped of SHIPPED_MODELS.filter((m) => models.includes(m))) {
      expect(files).toContain(`${shipped}/model.int8.onnx`);
      expect(files).not.toContain(`${shipped}/model.onnx`);
      expect(files.filter((f) => f.startsWith(`${shipped}/`) && f.includes('denoise'))).toEqual([]);
    }
    // Nothing else from node_modules: every other dependency is inside index.mjs.
    const packages = new Set(
      files
        .filter((f) => f.startsWith('node_modules/'))
        .map((f) =>
          f
            .split('/')
            .slice(1, f.split('/')[1]!.startsWith('@') ? 3 : 2)
            .join('/'),
        ),
    );
    expect([...packages].sort()).toEqual([
      '@img/colour',
      '@img/sharp-libvips-linux-x64',
      '@img/sharp-linux-x64',
      'detect-libc',
      'onnxruntime-common',
      'onnxruntime-node',
      'semver',
      'sharp',
    ]);
  });

  it('answers GET /healthz and GET /v1/models through the Lambda handler, with onnxruntime, sharp and the models from the bundle only', () => {
    // A fresh process whose only code is the bundle: the handler builds its dependencies
    // (S3 and SQS clients, which make no call here, and the model registry) on first use.
    const bundle = JSON.stringify(path.join(outDir, 'index.mjs'));
    const probe = `
      const { handler } = await import(${bundle});
      const event = (rawPath) => ({ version: '2.0', routeKey: '$default', rawPath, rawQueryString: '',
        headers: { host: 'api.example.com', authorization: 'Bearer test-key' }, isBase64Encoded: false,
        requestContext: { http: { method: 'GET', path: rawPath, protocol: 'HTTP/1.1', sourceIp: '192.0.2.1', userAgent: 'probe' },
          domainName: 'api.example.com', requestId: 'probe', stage: '$default' } });
      const health = await handler(event('/healthz'), {});
      const list = await handler(event('/v1/models'), {});
      const page = await handler(event('/'), {});
      console.log(JSON.stringify({ statusCode: health.statusCode, body: health.body, models: list.statusCode, list: list.body, page: page.statusCode, html: page.body.slice(0, 400) }));`;
    const run = spawnSync(process.execPath, ['--no-warnings', '--input-type=module', '-e', probe], {
      cwd: outDir,
      encoding: 'utf8',
      timeout: 90_000,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: os.tmpdir(),
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'test',
        AWS_SECRET_ACCESS_KEY: 'test',
        STORE: 's3',
        QUEUE: 'sqs',
        S3_BUCKET: 'bucket',
        SQS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs',
        SQS_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/jobs-dlq',
        MODELS: models.map((m) => path.join(outDir, m)).join(','),
        EXECUTION_PROVIDER: 'cpu',
        API_KEYS: 'test-key',
        LOG_LEVEL: 'error',
      },
    });
    expect(run.stderr + run.stdout).not.toMatch(/Cannot find (module|package)/);
    expect(run.status, run.stderr).toBe(0);
    const res = JSON.parse(run.stdout.trim().split('\n').pop()!) as {
      statusCode: number;
      body: string;
      models: number;
      list: string;
      page: number;
      html: string;
    };
    expect(res.statusCode, res.body).toBe(200);
    expect(res.models, res.list).toBe(200);
    const served = (JSON.parse(res.list) as { data: { id: string; default: boolean }[] }).data;
    expect(served).toHaveLength(models.length);
    expect(served[0]!.default).toBe(true);
    // The playground is served from the bundle's dist/.
    expect(res.page, res.html).toBe(200);
    expect(res.html).toContain('<title>Playground');
  });
});

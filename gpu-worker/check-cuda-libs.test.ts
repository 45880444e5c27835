/**
 * check-cuda-libs.sh on real ELF files built here with the C compiler: a library whose
 * dependency was deleted (what ldd reports for a CUDA 12 image under a CUDA 13 provider), the
 * driver's libcuda.so.1 (absent from every image, allowed), a dlopen'ed soname the loader does
 * not know (cuDNN), and a folder without the provider.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../test/adapters/tmp-dir.js';

const SCRIPT = resolve(import.meta.dirname, 'check-cuda-libs.sh');

/** Builds `bin/<file>` in `dir`, linked against a stub for each soname in `needs` (the stub deleted afterwards unless `keep`). */
function sharedLibrary(dir: string, file: string, needs: { soname: string; keep: boolean }[] = []): void {
  const source = join(dir, `${file}.c`);
  writeFileSync(source, `int ${file.replace(/\W/g, '_')}(void) { return 0; }\n`);
  const linked: string[] = [];
  for (const need of needs) {
    const depDir = join(dir, `dep-${need.soname}`);
    mkdirSync(depDir, { recursive: true });
    const depSource = join(depDir, 'dep.c');
    writeFileSync(depSource, 'int dep(void) { return 1; }\n');
    execFileSync('cc', ['-shared', '-fPIC', `-Wl,-soname,${need.soname}`, '-o', join(depDir, need.soname), depSource]);
    linked.push(join(depDir, need.soname));
  }
  execFileSync('cc', ['-shared', '-fPIC', '-o', join(dir, 'bin', file), source, '-Wl,--no-as-needed', ...linked]);
  for (const [i, need] of needs.entries()) if (!need.keep) rmSync(linked[i]!);
}

function check(binDir: string, ...dlopened: string[]): { status: number | null; output: string } {
  const result = spawnSync('bash', [SCRIPT, binDir, ...dlopened], { encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('check-cuda-libs.sh', () => {
  const tmp = tempDir('cuda-libs');
  afterAll(() => tmp.remove());
  let n = 0;
  const fresh = (): string => {
    n += 1;
    const dir = join(tmp.dir, `case${n}`);
    mkdirSync(join(dir, 'bin'), { recursive: true });
    return dir;
  };

  it('passes when every library resolves, libcuda.so.1 (the host driver) excepted', () => {
    const dir = fresh();
    sharedLibrary(dir, 'libonnxruntime_providers_shared.so');
    sharedLibrary(dir, 'libonnxruntime_providers_cuda.so', [{ soname: 'libcuda.so.1', keep: false }]);
    const { status, output } = check(join(dir, 'bin'), 'libc.so.6');
    expect(status, output).toBe(0);
    expect(output).toMatch(/every library of the CUDA provider/);
  });

  it('fails naming the libraries ldd cannot find', () => {
    const dir = fresh();
    sharedLibrary(dir, 'libonnxruntime_providers_shared.so');
    sharedLibrary(dir, 'libonnxruntime_providers_cuda.so', [
      { soname: 'libcudart.so.13', keep: false },
      { soname: 'libcublas.so.13', keep: false },
    ]);
    const { status, output } = check(join(dir, 'bin'), 'libc.so.6');
    expect(status).toBe(1);
    expect(output).toMatch(/libonnxruntime_providers_cuda\.so needs libraries this image lacks: .*libcudart\.so\.13/);
    expect(output).toMatch(/libcublas\.so\.13/);
  });

  it('fails when a library the provider opens at run time is unknown to the loader', () => {
    const dir = fresh();
    sharedLibrary(dir, 'libonnxruntime_providers_shared.so');
    sharedLibrary(dir, 'libonnxruntime_providers_cuda.so');
    const { status, output } = check(join(dir, 'bin'), 'libcudnn-not-installed.so.9');
    expect(status).toBe(1);
    expect(output).toMatch(/libcudnn-not-installed\.so\.9 \(opened by the CUDA provider at run time\) is not known/);
  });

  it('finds a dlopen soname in LD_LIBRARY_PATH as the loader would', () => {
    const dir = fresh();
    sharedLibrary(dir, 'libonnxruntime_providers_shared.so');
    sharedLibrary(dir, 'libonnxruntime_providers_cuda.so');
    const libs = join(dir, 'cudnn');
    mkdirSync(libs);
    writeFileSync(join(libs, 'libcudnn-test.so.9'), '');
    const result = spawnSync('bash', [SCRIPT, join(dir, 'bin'), 'libcudnn-test.so.9'], {
      encoding: 'utf8',
      env: { ...process.env, LD_LIBRARY_PATH: `/nonexistent:${libs}` },
    });
    expect(result.status, `${result.stdout}${result.stderr}`).toBe(0);
  });

  it('fails when the CUDA provider was never installed', () => {
    const dir = fresh();
    const { status, output } = check(join(dir, 'bin'), 'libc.so.6');
    expect(status).toBe(1);
    expect(output).toMatch(/libonnxruntime_providers_cuda\.so is missing/);
    expect(output).toMatch(/libonnxruntime_providers_shared\.so is missing/);
  });
});

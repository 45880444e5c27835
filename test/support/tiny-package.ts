/**
 * Test helpers for the fixture package packages/tiny (written by model/packaging/export.py): where it
 * is, whether it exists, and its golden.json decoded.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** RUNTIME_TEST_PACKAGE points the runtime's tests at another package folder (ending in /). */
export const TINY_DIR = process.env['RUNTIME_TEST_PACKAGE'] ?? fileURLToPath(new URL('../../packages/tiny/', import.meta.url));
export const hasTiny = existsSync(`${TINY_DIR}manifest.json`);

/** float32 little-endian, base64 (golden.json's encoding of arrays). */
export function decodeFloat32(base64: string): Float32Array {
  const bytes = Buffer.from(base64, 'base64');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return Float32Array.from({ length: bytes.byteLength / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

export function readGolden(): Record<string, unknown> {
  return JSON.parse(readFileSync(`${TINY_DIR}golden.json`, 'utf8')) as Record<string, unknown>;
}

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`length ${a.length} vs ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i += 1) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/**
 * The CI variant of `npm run fuzz`: schemathesis with every check against the edge's spec,
 * several hundred test cases; no server error, no response that breaks the spec, and no
 * schema-valid request refused (the spec says what the server enforces).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runFuzz } from './run.js';

describe('schemathesis against /openapi.json', () => {
  it('finds no server error, no response outside the spec and no valid request refused in 100+ cases', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fuzz-'));
    try {
      // Capped (schemathesis --max-time) so that a loaded machine ends the run, and stops its edge and worker, within the test's time.
      const report = await runFuzz({ maxExamples: 1, seed: 12, reportDir: dir, maxTimeSeconds: 150 });
      // The figures docs/reliability.md quotes, also when it passes.
      console.info(
        `fuzz: ${report.cases} cases, ${report.operations} operations, ${report.seconds} s; failures ${JSON.stringify(report.failures)}; schemathesis runtime errors ${report.runtimeErrors}`,
      );
      expect(report.cases, report.summary).toBeGreaterThanOrEqual(100);
      expect(report.operations).toBeGreaterThanOrEqual(5);
      expect(report.serverErrors, report.summary).toBe(0);
      expect(report.gateFailures, report.summary).toBe(0);
      expect(report.rejected, report.summary).toBe(0);
      // A crash of schemathesis itself leaves phases unchecked (its coverage phase crashed on the
      // generation form's `not` rule until that rule became words); every case got an answer.
      expect(report.runtimeErrors, report.summary).toBe(0);
      expect(report.errored, report.summary).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 300_000);
});

/**
 * Runs the readiness checks side by side, each with a time limit: an unreachable S3 or SQS
 * endpoint can keep an SDK call retrying for far longer than a health checker waits.
 */
import type { CheckResult, ReadinessCheck, ReadinessReport } from './report.js';

export const CHECK_TIMEOUT_MS = 2_000;

export async function evaluateReadiness(checks: readonly ReadinessCheck[], timeoutMs = CHECK_TIMEOUT_MS): Promise<ReadinessReport> {
  const results = await Promise.all(checks.map(async (check) => [check.name, await runOne(check, timeoutMs)] as const));
  const missing = results.flatMap(([name, r]) => (r.ok ? [] : [{ check: name, message: r.message ?? 'not ready' }]));
  return { status: missing.length === 0 ? 'ready' : 'not_ready', missing, checks: Object.fromEntries(results) };
}

async function runOne(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, message: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(() => check.run()), late]);
  } catch (err) {
    return { ok: false, message: (err as Error).message || String(err) };
  } finally {
    clearTimeout(timer);
  }
}

/** One line for a person: "ready" (with any check's note), or each missing check and why. */
export function describeReadiness(report: ReadinessReport): string {
  if (report.status !== 'ready') return `not ready: ${report.missing.map((m) => `${m.check}: ${m.message}`).join('; ')}`;
  const notes = Object.entries(report.checks).flatMap(([name, r]) => (r.message ? [`${name}: ${r.message}`] : []));
  return notes.length > 0 ? `ready (${notes.join('; ')})` : 'ready';
}

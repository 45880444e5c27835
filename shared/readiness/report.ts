/**
 * Readiness: whether this process can do its work now (the store and queue answer, its
 * models loaded, a worker takes jobs), as opposed to liveness (/healthz: the process
 * answers). The report is what GET /readyz sends, so its shape is a zod schema.
 */
import { z } from 'zod';

export const CheckResult = z
  .object({
    ok: z.boolean(),
    message: z.string().optional().meta({ description: 'What is missing, or a note on a check that passes (one worker of two stopped).' }),
  })
  .strict();
export type CheckResult = z.infer<typeof CheckResult>;

export const ReadinessReport = z
  .object({
    status: z.enum(['ready', 'not_ready']),
    missing: z
      .array(z.object({ check: z.string(), message: z.string() }).strict())
      .meta({ description: 'Each check that failed and why; empty when ready.' }),
    checks: z
      .record(z.string(), CheckResult)
      .meta({ description: 'Every check by name: store, queue, models, and workers where the process runs them.' }),
  })
  .strict();
export type ReadinessReport = z.infer<typeof ReadinessReport>;

export interface ReadinessCheck {
  readonly name: string;
  run(): Promise<CheckResult> | CheckResult;
}

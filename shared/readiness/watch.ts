/**
 * Follows readiness for a person at a terminal (`npm start`): evaluates the checks every
 * `intervalMs` (and at once when poked, as when a worker changes state) and reports the
 * line only when it changes, so that the terminal shows "not ready: why" and "ready" as
 * they happen instead of a line a second.
 */
import { describeReadiness, evaluateReadiness } from './evaluate.js';
import type { ReadinessCheck, ReadinessReport } from './report.js';

export interface ReadinessWatch {
  /** Evaluate now (after the one in progress, if any). */
  poke(): void;
  stop(): void;
}

export function watchReadiness(
  checks: readonly ReadinessCheck[],
  report: (line: string, result: ReadinessReport) => void,
  intervalMs = 1_000,
): ReadinessWatch {
  let last: string | undefined;
  let running = false;
  let again = false;
  let stopped = false;
  const evaluate = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const result = await evaluateReadiness(checks);
        const line = describeReadiness(result);
        if (!stopped && line !== last) {
          last = line;
          report(line, result);
        }
      } while (again && !stopped);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void evaluate(), intervalMs).unref();
  void evaluate();
  return {
    poke: () => void evaluate(),
    stop() {
      stopped = true;
      clearInterval(timer);
    },
  };
}

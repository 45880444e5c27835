/**
 * A readiness probe as a load balancer runs one: GET /readyz every `everyMs`, each answer
 * kept with the phase of the run it fell in, so that the run can say, per phase, that
 * readiness went 503 naming the workers and came back to 200, and never named them once
 * quiet. A 503 for another check (the store or queue slower than the check's 2 s on a
 * loaded machine) is counted apart: it is readiness telling the truth about those.
 */
import { sleep } from './client.js';

export interface ProbeSample {
  at: number;
  phase: string;
  /** The HTTP status; 0 when nothing answered (the process not listening yet). */
  status: number;
  /** The checks /readyz named as missing. */
  missing: string[];
}

export interface PhaseReadiness {
  samples: number;
  ready: number;
  /** 503s that named the workers (no worker ready). */
  notReady: number;
  /** 503s for other checks only (a store or queue slow to answer), kept apart: not the pool's. */
  otherNotReady: number;
  /** Whether a 200 came after the phase's last 503 that named the workers (or there was none). */
  readyAfter: boolean;
  /** The first 503's reasons, as /readyz said them, of each kind. */
  firstNotReady?: string;
  firstOtherNotReady?: string;
  /** The last answer of the phase. */
  last?: number;
}

export interface ReadinessProbe {
  /** Samples from now on belong to `phase`. */
  phase(name: string): void;
  /** The latest answer. */
  latest(): ProbeSample | undefined;
  stop(): Promise<Record<string, PhaseReadiness>>;
}

export function startReadinessProbe(url: string, everyMs = 100): ReadinessProbe {
  const samples: ProbeSample[] = [];
  let phase = 'start';
  let running = true;
  const loop = (async () => {
    while (running) {
      const at = Date.now();
      const currentPhase = phase;
      try {
        const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(10_000) });
        const body = (await res.json()) as { missing?: { check: string; message: string }[] };
        samples.push({ at, phase: currentPhase, status: res.status, missing: (body.missing ?? []).map((m) => `${m.check}: ${m.message}`) });
      } catch {
        samples.push({ at, phase: currentPhase, status: 0, missing: [] });
      }
      await sleep(everyMs);
    }
  })();
  return {
    phase: (name) => {
      phase = name;
    },
    latest: () => samples.at(-1),
    async stop() {
      running = false;
      await loop;
      const byPhase: Record<string, PhaseReadiness> = {};
      for (const s of samples) {
        const p = byPhase[s.phase] ?? { samples: 0, ready: 0, notReady: 0, otherNotReady: 0, readyAfter: true };
        byPhase[s.phase] = p;
        p.samples += 1;
        if (s.status === 200) {
          p.ready += 1;
          p.readyAfter = true;
        }
        if (s.status === 503 && s.missing.some((m) => m.startsWith('workers:'))) {
          p.notReady += 1;
          p.readyAfter = false;
          p.firstNotReady ??= s.missing.join('; ');
        } else if (s.status === 503) {
          p.otherNotReady += 1;
          p.firstOtherNotReady ??= s.missing.join('; ');
        }
        if (s.status !== 0) p.last = s.status;
      }
      return byPhase;
    },
  };
}

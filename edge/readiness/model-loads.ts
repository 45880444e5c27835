/**
 * Which of the edge's models failed to load, for /readyz. The registry has read every
 * package before the app starts; what can still fail is opening a graph: under Lambda
 * each model's session opens on its first request, and a decode thread that died loads
 * its sessions again. A later load that succeeds clears the failure.
 */
import { UnknownModelError } from '../../shared/models/index.js';
import type { ReadinessCheck } from '../../shared/readiness/index.js';
import type { RuntimeLookup } from '../text-decode.js';

export class ModelLoads {
  private readonly failed = new Map<string, string>();

  loaded(what: string): void {
    this.failed.delete(what);
  }

  failedToLoad(what: string, err: unknown): void {
    this.failed.set(what, err instanceof Error ? err.message : String(err));
  }

  /** A runtime lookup (RuntimeSet.get) that records each model's open; an unknown name is the caller's mistake, not a load. */
  track(lookup: RuntimeLookup): RuntimeLookup {
    return async (model) => {
      try {
        const runtime = await lookup(model);
        this.loaded(model);
        return runtime;
      } catch (err) {
        if (!(err instanceof UnknownModelError)) this.failedToLoad(model, err);
        throw err;
      }
    };
  }

  check(): ReadinessCheck {
    return {
      name: 'models',
      run: () =>
        this.failed.size === 0
          ? { ok: true }
          : { ok: false, message: [...this.failed].map(([what, message]) => `${what} failed to load: ${message}`).join('; ') },
    };
  }
}

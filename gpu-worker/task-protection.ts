/**
 * ECS task scale-in protection (docs/deploy.md, "What the worker must do"): while the worker
 * holds jobs it asks the ECS agent to protect its task, so that lowering the service's
 * desired count stops idle workers first; when it has been idle for a while it drops the
 * protection. Outside ECS (no ECS_AGENT_URI) none of this runs.
 *
 * - TaskProtectionPort: sets the protection; EcsAgentTaskProtection is its adapter for the
 *   agent's endpoint `PUT $ECS_AGENT_URI/task-protection/v1/state`.
 * - ScaleInProtection: turns the number of held jobs into calls: on at once when work
 *   arrives, renewed before it expires while work lasts, off only after `idleMs` without
 *   work (debounced, so a worker between two jobs does not flap), off at once on close.
 *   Calls are serialized; a failed call is logged and retried.
 */

export type ProtectionState = { enabled: true; expiresInMinutes: number } | { enabled: false };

export interface TaskProtectionPort {
  set(state: ProtectionState): Promise<void>;
}

export class TaskProtectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TaskProtectionError';
  }
}

/** The ECS agent's task-protection endpoint (ECS_AGENT_URI is set by ECS in each task). */
export class EcsAgentTaskProtection implements TaskProtectionPort {
  private readonly url: string;

  constructor(
    agentUri: string,
    private readonly options: { timeoutMs?: number; fetch?: typeof fetch } = {},
  ) {
    this.url = `${agentUri.replace(/\/+$/, '')}/task-protection/v1/state`;
  }

  async set(state: ProtectionState): Promise<void> {
    const body = state.enabled ? { ProtectionEnabled: true, ExpiresInMinutes: state.expiresInMinutes } : { ProtectionEnabled: false };
    const res = await (this.options.fetch ?? fetch)(this.url, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(this.options.timeoutMs ?? 5000),
    });
    const text = await res.text();
    if (!res.ok)
      throw new TaskProtectionError(`task protection ${state.enabled ? 'on' : 'off'}: HTTP ${res.status}: ${text.slice(0, 300)}`);
    // The agent answers 200 with a `failure` (or `error`) object when ECS refused the update.
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const failure =
      (parsed as { failure?: unknown; error?: unknown } | undefined)?.failure ?? (parsed as { error?: unknown } | undefined)?.error;
    if (failure)
      throw new TaskProtectionError(`task protection ${state.enabled ? 'on' : 'off'} refused: ${JSON.stringify(failure).slice(0, 300)}`);
  }
}

export interface ScaleInProtectionOptions {
  port: TaskProtectionPort;
  /** ExpiresInMinutes of each "on" call (ECS allows 1..2880). */
  expiresInMinutes: number;
  /** Idle time before the protection is dropped. */
  idleMs: number;
  /** Renewal period while busy (default half the expiry). */
  renewEveryMs?: number;
  /** Wait before retrying a failed call (default 5 s). */
  retryMs?: number;
  logger?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export class ScaleInProtection {
  private busy = false;
  /** What the agent was last told successfully. */
  private enabled = false;
  private enabledAt = 0;
  private closed = false;
  private idleTimer: NodeJS.Timeout | undefined;
  private renewTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly renewEveryMs: number;

  constructor(private readonly opts: ScaleInProtectionOptions) {
    this.renewEveryMs = opts.renewEveryMs ?? (opts.expiresInMinutes * 60_000) / 2;
  }

  /** The number of jobs the worker holds now. */
  update(held: number): void {
    if (this.closed) return;
    if (held > 0) {
      clearTimeout(this.idleTimer);
      this.idleTimer = undefined;
      if (!this.busy) {
        this.busy = true;
        this.reconcile();
      }
    } else if (this.busy && !this.idleTimer) {
      this.idleTimer = setTimeout(() => {
        this.idleTimer = undefined;
        this.busy = false;
        this.reconcile();
      }, this.opts.idleMs);
      this.idleTimer.unref();
    }
  }

  /** Stops the timers and drops the protection now if it is on (shutdown). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.busy = false;
    for (const t of [this.idleTimer, this.renewTimer, this.retryTimer]) clearTimeout(t);
    await this.running;
    if (this.enabled) await this.call({ enabled: false }).catch(() => {});
  }

  /** Makes the agent's state match `busy`, one call at a time. */
  private reconcile(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.step().finally(() => {
      this.running = undefined;
      if (this.again && !this.closed) {
        this.again = false;
        this.reconcile();
      }
    });
  }

  private async step(): Promise<void> {
    if (this.closed) return;
    const renewDue = this.enabled && Date.now() - this.enabledAt >= this.renewEveryMs;
    try {
      if (this.busy && (!this.enabled || renewDue)) {
        await this.call({ enabled: true, expiresInMinutes: this.opts.expiresInMinutes });
        this.enabled = true;
        this.enabledAt = Date.now();
      } else if (!this.busy && this.enabled) {
        await this.call({ enabled: false });
        this.enabled = false;
      }
    } catch (err) {
      this.opts.logger?.warn({ err, busy: this.busy }, 'task scale-in protection call failed; retrying');
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(() => this.reconcile(), this.opts.retryMs ?? 5000);
      this.retryTimer.unref();
      return;
    }
    this.scheduleRenewal();
  }

  private scheduleRenewal(): void {
    clearTimeout(this.renewTimer);
    this.renewTimer = undefined;
    if (!this.enabled || this.closed) return;
    const wait = Math.max(0, this.enabledAt + this.renewEveryMs - Date.now());
    this.renewTimer = setTimeout(() => this.reconcile(), wait);
    this.renewTimer.unref();
  }

  private async call(state: ProtectionState): Promise<void> {
    await this.opts.port.set(state);
    this.opts.logger?.info(
      { protectionEnabled: state.enabled, ...(state.enabled ? { expiresInMinutes: state.expiresInMinutes } : {}) },
      'task scale-in protection set',
    );
  }
}

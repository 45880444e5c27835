/**
 * One onnxruntime session per served model, opened from the registry's already verified
 * packages: on first use (`get`) or all at once (`openAll`). The caller picks which: the
 * worker and the edge's decode thread open every model at start (a graph that will not load
 * fails the process then, not a user's request later); Lambda opens a model when a request
 * first asks for it (a cold start pays for the models that instance serves, nothing more).
 */
import { createRuntime, type OnnxModelRuntime, type RuntimeOptions } from '../runtime/index.js';
import { type ModelRegistry, UnknownModelError } from './registry.js';

export class RuntimeSet {
  private readonly opened = new Map<string, Promise<OnnxModelRuntime>>();
  private closed = false;

  constructor(
    readonly registry: ModelRegistry,
    private readonly options: Omit<RuntimeOptions, 'info'> = {},
  ) {}

  /** The named model's runtime, opened once; a failed open is retried by the next call. */
  get(name: string): Promise<OnnxModelRuntime> {
    if (this.closed) return Promise.reject(new Error('the runtime set is closed'));
    const model = this.registry.get(name);
    if (!model) return Promise.reject(new UnknownModelError(name, this.registry.names));
    let runtime = this.opened.get(name);
    if (!runtime) {
      runtime = createRuntime(model.dir, { ...this.options, info: model });
      runtime.catch(() => this.opened.delete(name));
      this.opened.set(name, runtime);
    }
    return runtime;
  }

  /** Every model's runtime, in the registry's order. */
  openAll(): Promise<OnnxModelRuntime[]> {
    return Promise.all(this.registry.names.map((name) => this.get(name)));
  }

  async close(): Promise<void> {
    this.closed = true;
    const runtimes = await Promise.allSettled(this.opened.values());
    this.opened.clear();
    await Promise.all(runtimes.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
  }
}

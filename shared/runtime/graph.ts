/**
 * The serving graph model.onnx behind one onnxruntime-node InferenceSession: feeds a batch
 * (batch.ts) under the contract's input names and reads back only the outputs asked for, so
 * that a denoising step does not copy the present keys and values it discards.
 */
import * as ort from 'onnxruntime-node';
import { assembleBatch, type BatchInputs, type BatchRow } from './batch.js';
import { GRAPH_INPUTS, GRAPH_OUTPUTS, type GraphOutput } from './graph-names.js';
import type { CacheDims } from './kv-cache.js';

export interface GraphOptions {
  executionProvider: 'cpu' | 'cuda';
  intraOpThreads?: number;
  /**
   * How to feed a zero-length past: 'auto' tries it once and pads from then on if the backend
   * refuses; 'pad' always feeds one masked zero position instead (tests use it to check that
   * the workaround gives the same results).
   */
  emptyPast?: 'auto' | 'pad';
}

export interface GraphShape extends CacheDims {
  readonly patchDim: number;
  readonly padId: number;
}

export interface GraphResult {
  readonly inputs: BatchInputs;
  readonly outputs: Partial<Record<GraphOutput, Float32Array>>;
}

/**
 * onnxruntime's options for one graph. On the CPU its thread pool does not spin between calls:
 * every session has a pool of its own (a worker runs two, the serving and the denoise graph;
 * the edge one a model), and a pool spinning after its call takes the cores the next call on the
 * other session needs. Measured on 2 cores (docs/performance.md): a denoising call after a
 * prefill took 6.6 to 11.8 ms with spinning, 6.0 to 6.7 without.
 */
export function sessionOptions(options: GraphOptions): ort.InferenceSession.SessionOptions {
  return {
    executionProviders: [options.executionProvider],
    graphOptimizationLevel: 'all',
    ...(options.intraOpThreads !== undefined ? { intraOpNumThreads: options.intraOpThreads } : {}),
    ...(options.executionProvider === 'cpu'
      ? { extra: { 'session.intra_op.allow_spinning': '0', 'session.inter_op.allow_spinning': '0' } }
      : {}),
  };
}

export class ServingGraph {
  /**
   * Whether the backend accepts a past of length 0. Unknown until the first empty-past call;
   * when it refuses, every later empty past is fed as one masked zero position instead.
   */
  private emptyPastOk: boolean | undefined;

  private constructor(
    private readonly session: ort.InferenceSession,
    private readonly shape: GraphShape,
  ) {}

  /** `outputs`: the contract outputs this file must have (a denoise-only cut has `denoised` only). */
  static async open(
    path: string,
    shape: GraphShape,
    options: GraphOptions,
    outputs: readonly GraphOutput[] = GRAPH_OUTPUTS,
  ): Promise<ServingGraph> {
    const session = await ort.InferenceSession.create(path, sessionOptions(options));
    const missing = [
      ...GRAPH_INPUTS.filter((name) => !session.inputNames.includes(name)).map((n) => `input ${n}`),
      ...outputs.filter((name) => !session.outputNames.includes(name)).map((n) => `output ${n}`),
    ];
    if (missing.length > 0) {
      await session.release();
      throw new Error(`${path} does not follow the model package contract: missing ${missing.join(', ')}`);
    }
    const graph = new ServingGraph(session, shape);
    if (options.emptyPast === 'pad') graph.emptyPastOk = false;
    return graph;
  }

  /** Whether empty pasts are fed as they are (true), padded (false), or not yet tried. */
  get emptyPastSupported(): boolean | undefined {
    return this.emptyPastOk;
  }

  async run(rows: readonly BatchRow[], fetch: readonly GraphOutput[]): Promise<GraphResult> {
    const empty = rows.every((row) => row.past.length === 0);
    if (empty && this.emptyPastOk === undefined) {
      try {
        const result = await this.runOnce(rows, fetch, 0);
        this.emptyPastOk = true;
        return result;
      } catch {
        this.emptyPastOk = false;
      }
    }
    return this.runOnce(rows, fetch, empty && this.emptyPastOk === false ? 1 : 0);
  }

  async close(): Promise<void> {
    await this.session.release();
  }

  /** Assembles rows into one call's inputs (no empty-past handling: the rows' pasts are fed as they are). */
  assemble(rows: readonly BatchRow[]): BatchInputs {
    return assembleBatch(rows, this.shape, this.shape.patchDim, this.shape.padId);
  }

  /** Runs inputs assembled earlier (a denoising batch reused between steps); pasts must be non-empty. */
  async runAssembled(inputs: BatchInputs, fetch: readonly GraphOutput[]): Promise<GraphResult> {
    if (inputs.pastLength === 0) throw new RangeError('runAssembled needs a non-empty past');
    return this.feed(inputs, fetch);
  }

  private async runOnce(rows: readonly BatchRow[], fetch: readonly GraphOutput[], minPast: number): Promise<GraphResult> {
    const { patchDim, padId } = this.shape;
    return this.feed(assembleBatch(rows, this.shape, patchDim, padId, minPast), fetch);
  }

  private async feed(inputs: BatchInputs, fetch: readonly GraphOutput[]): Promise<GraphResult> {
    const { layers, keyDim, valueDim, patchDim } = this.shape;
    const { batch: B, newLength: T, pastLength: P } = inputs;
    const feeds: Record<string, ort.Tensor> = {
      tokens: new ort.Tensor('int64', inputs.tokens, [B, T]),
      patches: new ort.Tensor('float32', inputs.patches, [B, T, patchDim]),
      is_image: new ort.Tensor('float32', inputs.isImage, [B, T]),
      noise_level: new ort.Tensor('float32', inputs.noiseLevel, [B, T]),
      positions: new ort.Tensor('int64', inputs.positions, [B, T, 3]),
      attention_mask: new ort.Tensor('float32', inputs.attentionMask, [B, T, P + T]),
      past_keys: new ort.Tensor('float32', inputs.pastKeys, [layers, B, P, keyDim]),
      past_values: new ort.Tensor('float32', inputs.pastValues, [layers, B, P, valueDim]),
    };
    const results = await this.session.run(feeds, fetch);
    const outputs: Partial<Record<GraphOutput, Float32Array>> = {};
    for (const name of fetch) {
      const tensor = results[name];
      if (!tensor || !(tensor.data instanceof Float32Array)) throw new Error(`model.onnx returned no float32 ${name}`);
      outputs[name] = tensor.data;
    }
    return { inputs, outputs };
  }
}

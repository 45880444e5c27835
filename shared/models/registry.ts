/**
 * The models a process serves: every configured package's manifest (zod-validated, files
 * checked against their sha256) and tokenizer, loaded once at start, by name. The first is
 * the default model (a request without `model`). No onnxruntime session here: the edge's
 * event loop needs only this; sessions live where the graphs run (./runtimes.ts).
 */
import { stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { ModelsSource } from '../config/index.js';
import { loadModelInfo, type Manifest, type ModelInfo, type Tokenizer } from '../runtime/index.js';
import { MODEL_NAME } from '../schemas/models.js';
import { type ModelCard, modelCard } from './card.js';

export { MODEL_NAME };

export interface ServedModel extends ModelInfo {
  /** The manifest's `name` (the folder's name when the manifest has none). */
  readonly name: string;
  /** Absolute package folder. */
  readonly dir: string;
  readonly manifest: Manifest;
  readonly tokenizer: Tokenizer;
  /** What GET /v1/models tells about it. */
  readonly card: ModelCard;
  readonly isDefault: boolean;
}

/** A package that cannot be served; the message names the variable that configured it. */
export class ModelRegistryError extends Error {
  override readonly name = 'ModelRegistryError';
}

/** A request named a model this process does not serve. */
export class UnknownModelError extends Error {
  override readonly name = 'UnknownModelError';
  constructor(
    readonly requested: string,
    readonly known: readonly string[],
  ) {
    super(`unknown model ${JSON.stringify(requested.slice(0, 100))}; this server serves: ${known.join(', ')}`);
  }
}

export class ModelRegistry {
  private readonly byName: ReadonlyMap<string, ServedModel>;

  /** `models` in configuration order, the default first; names must be unique. */
  constructor(readonly models: readonly ServedModel[]) {
    if (models.length === 0) throw new ModelRegistryError('a model registry needs at least one model');
    const byName = new Map<string, ServedModel>();
    for (const model of models) {
      const other = byName.get(model.name);
      if (other)
        throw new ModelRegistryError(
          `two packages are named ${JSON.stringify(model.name)}: ${other.dir} and ${model.dir} (model names must be unique)`,
        );
      byName.set(model.name, model);
    }
    this.byName = byName;
  }

  get default(): ServedModel {
    return this.models[0]!;
  }

  get names(): string[] {
    return this.models.map((m) => m.name);
  }

  has(name: string): boolean {
    return this.byName.has(name);
  }

  get(name: string): ServedModel | undefined {
    return this.byName.get(name);
  }

  /** The named model, or the default one when `name` is absent; UnknownModelError otherwise. */
  resolve(name: string | undefined): ServedModel {
    if (name === undefined) return this.default;
    const model = this.byName.get(name);
    if (!model) throw new UnknownModelError(name, this.names);
    return model;
  }
}

/** A loaded package as a served model; its name is checked (a request names it). */
export function servedModel(dir: string, info: ModelInfo, options: { isDefault: boolean; created: number }): ServedModel {
  const name = info.manifest.name ?? basename(dir);
  if (!MODEL_NAME.test(name)) {
    throw new ModelRegistryError(
      `the package is named ${JSON.stringify(name)}; a model name is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
  }
  return {
    manifest: info.manifest,
    tokenizer: info.tokenizer,
    name,
    dir,
    card: modelCard(name, info.manifest, options.created),
    isDefault: options.isDefault,
  };
}

export interface LoadRegistryOptions {
  /** The variable the folders came from, named in every error (default 'MODELS'). */
  from?: ModelsSource;
}

/** Loads and checks every package (in parallel); the first folder is the default model. */
export async function loadModelRegistry(dirs: readonly string[], options: LoadRegistryOptions = {}): Promise<ModelRegistry> {
  const variable = options.from === 'default' || options.from === undefined ? 'MODELS' : options.from;
  const models = await Promise.all(
    dirs.map(async (dir, i): Promise<ServedModel> => {
      try {
        const info = await loadModelInfo(dir);
        const created = Math.floor((await stat(join(dir, 'manifest.json'))).mtimeMs / 1000);
        return servedModel(dir, info, { isDefault: i === 0, created });
      } catch (err) {
        throw new ModelRegistryError(
          `${variable}: the model package ${dir} cannot be served: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }),
  );
  try {
    return new ModelRegistry(models);
  } catch (err) {
    throw new ModelRegistryError(`${variable}: ${(err as Error).message}`);
  }
}

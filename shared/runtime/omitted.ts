/**
 * omitted.json: the listed files a package folder leaves out on purpose. The edge's Lambda
 * bundle (infra/scripts/bundle-edge.ts) carries only the graph the edge runs, so that the
 * worker's graphs (the denoise-only cut, the other precision) do not weigh on its size and
 * cold start. loadPackage then skips those files instead of calling the folder broken, and
 * a runtime asked to open one of them says why it is absent.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { type Manifest, ModelPackageError } from './manifest.js';

export const OMITTED_FILE = 'omitted.json';

const omittedSchema = z.object({
  /** Names as manifest.json's `files` lists them. */
  omitted: z.array(z.string().min(1)),
  /** Who left them out and why, for a person reading the folder. */
  reason: z.string().optional(),
});

/** The files the folder's omitted.json names; none when it has no omitted.json. */
export async function readOmitted(dir: string, manifest: Manifest): Promise<readonly string[]> {
  let text: string;
  try {
    text = await readFile(join(dir, OMITTED_FILE), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new ModelPackageError(`cannot read ${join(dir, OMITTED_FILE)}: ${(error as Error).message}`);
  }
  const parsed = omittedSchema.safeParse(safeJson(text));
  if (!parsed.success) throw new ModelPackageError(`${join(dir, OMITTED_FILE)} is not {"omitted": [file names]}`);
  // The tokenizer is read by every process that serves the model: never optional.
  if (parsed.data.omitted.includes(manifest.tokenizer.file)) {
    throw new ModelPackageError(
      `${join(dir, OMITTED_FILE)} leaves out the tokenizer (${manifest.tokenizer.file}), which every process needs`,
    );
  }
  return parsed.data.omitted;
}

/** Throws when `file` is one the folder left out, naming what it kept instead. */
export async function assertNotOmitted(dir: string, manifest: Manifest, file: string): Promise<void> {
  const omitted = await readOmitted(dir, manifest);
  if (!omitted.includes(file)) return;
  const kept = Object.keys(manifest.files).filter((f) => !omitted.includes(f));
  throw new ModelPackageError(
    `${dir}: ${file} was left out of this folder (${OMITTED_FILE}; it keeps ${kept.join(', ')}): ` +
      'this bundle serves only the graph its process runs; check MODEL_PRECISION',
  );
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

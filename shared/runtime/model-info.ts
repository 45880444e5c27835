/**
 * A package's manifest (validated, files checked against their sha256) and tokenizer, without
 * an onnxruntime session: what a process that tokenizes but runs no graph needs (the Node
 * edge, whose decode runs on its own thread). createRuntime starts from it too.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadPackage, type Manifest } from './manifest.js';
import { type Tokenizer, tokenizerFromJson } from './tokenizer.js';

export interface ModelInfo {
  readonly manifest: Manifest;
  readonly tokenizer: Tokenizer;
}

export async function loadModelInfo(packageDir: string): Promise<ModelInfo> {
  const { manifest } = await loadPackage(packageDir);
  const tokenizerJson: unknown = JSON.parse(await readFile(join(packageDir, manifest.tokenizer.file), 'utf8'));
  return { manifest, tokenizer: tokenizerFromJson(tokenizerJson, manifest.tokenizer.special_tokens) };
}

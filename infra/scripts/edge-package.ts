/**
 * One model package as the edge's Lambda bundle carries it: manifest.json, the tokenizer and
 * the one graph the edge runs. The edge tokenizes and decodes text on the CPU (prefill and
 * decode, the serving graph of the precision the runtime picks there: int8 when the package's
 * int8 variant passed its quality check, else fp32); it never denoises, so the denoise-only
 * cut, the other precision's graph and the metadata files (eval.json, train_config.json,
 * golden.json) stay behind, named in omitted.json so that the loader accepts the folder.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseManifest } from '../../shared/runtime/manifest.js';
import { OMITTED_FILE } from '../../shared/runtime/omitted.js';
import { graphFilesFor, resolvePrecision } from '../../shared/runtime/precision.js';

/** The files of a package the edge reads, relative to the package folder. */
export function edgePackageFiles(packageDir: string): { keep: string[]; omit: string[] } {
  const manifest = parseManifest(JSON.parse(fs.readFileSync(path.join(packageDir, 'manifest.json'), 'utf8')));
  // The Lambda sets EXECUTION_PROVIDER=cpu and no MODEL_PRECISION (infra/lib/service-env.ts).
  const precision = resolvePrecision(undefined, {}, manifest, 'cpu');
  const graph = graphFilesFor(manifest, precision, packageDir).file;
  const keep = [manifest.tokenizer.file, graph];
  return { keep: ['manifest.json', ...keep], omit: Object.keys(manifest.files).filter((f) => !keep.includes(f)) };
}

/** Copies what the edge reads into `dst` and writes omitted.json; returns the files left out. */
export function copyEdgePackage(src: string, dst: string): string[] {
  const { keep, omit } = edgePackageFiles(src);
  fs.mkdirSync(dst, { recursive: true });
  for (const file of keep) fs.copyFileSync(path.join(src, file), path.join(dst, file));
  const reason = 'left out by infra/scripts/bundle-edge.ts: the edge runs only the graph it decodes text with';
  fs.writeFileSync(path.join(dst, OMITTED_FILE), `${JSON.stringify({ omitted: omit, reason }, null, 2)}\n`);
  return omit;
}

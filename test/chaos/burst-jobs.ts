/**
 * The jobs a pool chaos run sends while it kills workers: draws, describes of an input image
 * and answers of two images (MULTI_IMAGE), each followed to its end; then the proof that
 * each succeeded once: its image objects, at most one winning transition in the logs, the
 * same bytes when read again, and every answer of two images the same answer.
 */
import { PNG } from 'pngjs';
import type { Backend } from '../e2e/backends.js';
import { logLines } from '../log-lines.js';
import { call, imageHashes, sleep } from './client.js';
import { MULTI_IMAGE } from './run.js';

export type JobKind = 'draw' | 'describe' | 'multi';

export interface Job {
  kind: JobKind;
  id?: string;
  final?: { status: string; output: { type: string; url?: string }[] };
  hashes?: string[];
}

/** Images each kind answers with; a describe's short answer may be text or an image (the tiny model's choice). */
const IMAGES: Record<JobKind, number | undefined> = { draw: 1, describe: undefined, multi: 2 };

function png64(shade: number): string {
  const png = new PNG({ width: 64, height: 64 });
  for (let i = 0; i < png.data.length; i += 4) png.data.set([shade, ((i / 4) % 64) << 2, 255 - shade, 255], i);
  return `data:image/png;base64,${PNG.sync.write(png).toString('base64')}`;
}

export function jobKind(r: number): JobKind {
  return r < 0.7 ? 'draw' : r < 0.85 ? 'describe' : 'multi';
}

/** Sends job `i` and follows it until it ends or `settleBy`; a refused POST or no end is a violation. */
export async function runJob(url: string, job: Job, i: number, settleBy: () => number, violations: string[]): Promise<void> {
  const body =
    job.kind === 'describe'
      ? { prompt: 'describe the image', images: [png64((i * 37) % 256)], max_tokens: 6, seed: i }
      : job.kind === 'multi'
        ? MULTI_IMAGE
        : { prompt: 'draw a small red circle at the top', steps: 4 + (i % 5), seed: i };
  const created = await call(url, '/v1/generations', { body });
  if (created.status !== 201 && created.status !== 202) {
    violations.push(`job ${i} (${job.kind}): POST answered ${created.status} ${JSON.stringify(created.body).slice(0, 200)}`);
    return;
  }
  job.id = created.body.id as string;
  for (;;) {
    const { status, body: got } = await call(url, `/v1/generations/${job.id}`);
    if (status === 200 && ['succeeded', 'failed', 'canceled'].includes(got.status)) {
      job.final = got;
      job.hashes = await imageHashes(url, got.output);
      return;
    }
    if (Date.now() > settleBy()) {
      violations.push(`job ${job.id} (${job.kind}) not ended in time: ${got.status}`);
      return;
    }
    await sleep(250);
  }
}

/** Every job succeeded once (see the module comment); returns the violations and what was counted. */
export async function madeOnce(
  url: string,
  backend: Backend,
  dataDir: string,
  jobs: Job[],
  logs: string,
): Promise<{ violations: string[]; redelivered: number; imagesHashed: number }> {
  const violations: string[] = [];
  const wins = new Map<string, number>();
  const receivers = new Map<string, Set<number>>();
  for (const l of logLines(logs)) {
    const id = l['jobId'] as string | undefined;
    if (!id) continue;
    if (l['msg'] === 'job succeeded') wins.set(id, (wins.get(id) ?? 0) + 1);
    if (l['msg'] === 'job received') receivers.set(id, (receivers.get(id) ?? new Set<number>()).add(l['pid'] as number));
  }
  let imagesHashed = 0;
  const answers = new Set<string>();
  for (const job of jobs) {
    if (!job.final) continue;
    if (job.final.status !== 'succeeded') {
      violations.push(`job ${job.id} (${job.kind}) ended ${job.final.status}: ${JSON.stringify(job.final).slice(0, 300)}`);
      continue;
    }
    const images = job.final.output.filter((p) => p.type === 'image').length;
    if (IMAGES[job.kind] !== undefined && images !== IMAGES[job.kind])
      violations.push(`job ${job.id} (${job.kind}): ${images} images, expected ${IMAGES[job.kind]}`);
    const names = await backend.outputNames(dataDir, job.id!);
    if (names.length !== images)
      violations.push(`job ${job.id}: ${images} image parts but ${names.length} output objects (${names.join(', ')})`);
    if ((wins.get(job.id!) ?? 0) > 1) violations.push(`job ${job.id}: ${wins.get(job.id!)} 'job succeeded' transitions, expected 1`);
    const now = await imageHashes(url, (await call(url, `/v1/generations/${job.id}`)).body.output);
    if (JSON.stringify(now) !== JSON.stringify(job.hashes) || now.some((h) => h.startsWith('HTTP')))
      violations.push(`job ${job.id}: images ${JSON.stringify(job.hashes)} read back as ${JSON.stringify(now)}`);
    imagesHashed += now.length;
    if (job.kind === 'multi') answers.add(JSON.stringify([job.final.output.map((p) => (p.type === 'image' ? 'image' : p)), job.hashes]));
  }
  if (answers.size > 1) violations.push(`answers of two images differ: ${[...answers].map((a) => a.slice(0, 200)).join(' | ')}`);
  const redelivered = jobs.filter((j) => (receivers.get(j.id ?? '')?.size ?? 0) > 1).length;
  return { violations, redelivered, imagesHashed };
}

/** Test helpers that play the worker's part on a job record: progress, an output image, the end. */
import { type JobRecord, outputImageKey } from '../../shared/schemas/job.js';
import type { TestDeps } from './edge-deps.js';
import { pngBytes } from './images.js';

/** Moves a queued job to running, through `steps` progress writes, to succeeded with one 2x2 image. */
export async function playWorker(
  deps: Pick<TestDeps, 'jobs' | 'store'>,
  id: string,
  steps = 3,
  between: () => Promise<void> = async () => {},
): Promise<JobRecord> {
  await deps.jobs.update(id, (r) => ({ ...r, status: 'running', progress: { step: 0, steps } }));
  for (let step = 1; step <= steps; step++) {
    await between();
    await deps.jobs.update(id, (r) => ({ ...r, progress: { step, steps } }));
  }
  await between();
  const key = outputImageKey(id, 0);
  await deps.store.put(
    key,
    pngBytes(2, 2, () => [9, 9, 9, 255]),
    { contentType: 'image/png' },
  );
  return deps.jobs.update(id, (r) => ({
    ...r,
    status: 'succeeded',
    output: [...r.output, { type: 'image', key, width: 2, height: 2, mime_type: 'image/png' }],
  }));
}

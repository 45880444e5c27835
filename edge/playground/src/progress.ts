/** The status line's words for a generation in flight or finished (one image or several). */
import type { Generation } from './schemas.js';

export function progressText(g: Generation): string | null {
  if (g.status === 'queued') {
    const ahead = g.queue_position;
    return ahead != null && ahead > 0 ? `Waiting in the queue: ${ahead} ahead.` : 'Waiting in the queue…';
  }
  if (g.status !== 'running') return null;
  const { step, steps, image = 0, images_so_far: done = 0 } = g.progress;
  // Image k of the answer counts from 1 for people; earlier images are already on the page.
  return `Drawing: image ${image + 1}, step ${step} of ${steps}${done > 0 ? ` (${done} done)` : ''}.`;
}

export function finalText(g: Generation, images: number): string {
  if (g.status === 'canceled') return 'Canceled.';
  if (g.status !== 'succeeded') return 'The generation failed.';
  const steps = g.progress.steps;
  if (steps === 0) return 'Done.';
  return images > 1 ? `Done: ${images} images, ${steps} denoising steps each.` : `Done: ${steps} denoising steps.`;
}

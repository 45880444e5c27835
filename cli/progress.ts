/**
 * Progress on stderr while a generation is made: a bar redrawn in place on a terminal, one
 * line per change otherwise (logs and pipes stay readable).
 */
import type { Generation } from '../shared/schemas/generation.js';

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

const WIDTH = 24;

/** The parts of a generation the bar reads (`image` absent: a server older than multi-image answers). */
export type ProgressOf = Pick<Generation, 'status'> & { progress: Pick<Generation['progress'], 'step' | 'steps'> & { image?: number } };

export function progressLine(g: ProgressOf): string {
  const { step, steps, image = 0 } = g.progress;
  if (steps === 0) return g.status;
  const filled = Math.round((Math.min(step, steps) / steps) * WIDTH);
  // Counted from 1 for people; the first image of an answer is not named (most answers have one).
  const which = image > 0 ? ` image ${image + 1}` : '';
  return `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}]${which} step ${step}/${steps} ${g.status}`;
}

export class ProgressReporter {
  private last = '';

  constructor(private readonly out: ProgressStream) {}

  update(g: ProgressOf): void {
    const line = progressLine(g);
    if (line === this.last) return;
    this.last = line;
    if (this.out.isTTY) this.out.write(`\r\x1b[2K${line}`);
    else this.out.write(`${line}\n`);
  }

  done(): void {
    if (this.out.isTTY && this.last) this.out.write('\n');
    this.last = '';
  }
}

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

export function progressLine(g: Pick<Generation, 'status' | 'progress'>): string {
  const { step, steps } = g.progress;
  if (steps === 0) return g.status;
  const filled = Math.round((Math.min(step, steps) / steps) * WIDTH);
  return `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] step ${step}/${steps} ${g.status}`;
}

export class ProgressReporter {
  private last = '';

  constructor(private readonly out: ProgressStream) {}

  update(g: Pick<Generation, 'status' | 'progress'>): void {
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

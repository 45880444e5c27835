/**
 * A thread on the page: each turn as what was asked (text and images) and the model's
 * answer in order, each answer image with its follow-ups (describe, edit, restyle, attach
 * to the next turn, or drag it there). Only the turn being answered is redrawn as it grows.
 */
import { can } from './conversation.js';
import { button, h } from './dom.js';
import type { StoredPart, Thread, Turn } from './gallery.js';
import { type Attached, makeDraggable } from './inputs.js';
import type { Model } from './schemas.js';

export interface FollowUps {
  describe(item: Attached): void;
  edit(item: Attached): void;
  restyle(item: Attached): void;
  attach(item: Attached): void;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

export class ThreadView {
  /** The progress line of the turn being answered, and which turn that is. */
  private live: { turn: number; el: HTMLElement } | null = null;

  constructor(
    private readonly root: HTMLElement,
    private readonly actions: FollowUps,
  ) {}

  clear(): void {
    this.root.replaceChildren();
    this.live = null;
  }

  /** The whole thread; `model` decides which follow-ups its answers offer. */
  render(thread: Thread, model: Model | undefined): void {
    this.live = null;
    this.root.replaceChildren(...thread.turns.map((turn, k) => this.turnElement(turn, k, model)));
  }

  /** Redraws turn `k` (appending it when new); its live line is kept for `setLive`. */
  renderTurn(turn: Turn, k: number, model: Model | undefined, running: boolean): void {
    const el = this.turnElement(turn, k, model, running);
    const old = this.root.querySelector(`[data-turn="${k}"]`);
    if (old) old.replaceWith(el);
    else this.root.append(el);
  }

  removeTurn(k: number): void {
    this.root.querySelector(`[data-turn="${k}"]`)?.remove();
  }

  /** The running turn's progress ("Image 1, step 3 of 10"), changed in place so focus stays. */
  setLive(text: string): void {
    if (this.live) this.live.el.textContent = text;
  }

  private turnElement(turn: Turn, k: number, model: Model | undefined, running = false): HTMLElement {
    const n = turn.inputs.length;
    const you = h(
      'div',
      { class: 'you' },
      h('p', { class: 'asked' }, `You asked: ${turn.prompt}${n > 0 ? ` (with ${plural(n, 'image')})` : ''}`),
      n > 0
        ? h(
            'div',
            { class: 'given' },
            ...turn.inputs.map((img, i) =>
              h('img', { class: 'pixels', src: img.src, alt: `The image you gave (${i + 1})`, width: '128', height: '128' }),
            ),
          )
        : null,
    );
    const reply = h('div', { class: 'reply' });
    if (turn.output.length === 0 && !running)
      reply.append(
        h('p', { class: 'text' }, turn.status === 'succeeded' ? '(The model gave an empty answer.)' : `(No answer: ${turn.status}.)`),
      );
    let image = 0;
    turn.output.forEach((part) => {
      if (part.type === 'text') reply.append(h('p', { class: 'text' }, part.text));
      else reply.append(this.figure(part, turn, k, image++, model));
    });
    // Another turn's redraw (a canceled one) leaves the running turn's line alone.
    if (running) {
      const el = h('p', { class: 'live' }, 'Waiting…');
      this.live = { turn: k, el };
      reply.append(el);
    } else if (this.live?.turn === k) this.live = null;
    return h('article', { class: 'turn', 'data-turn': String(k), 'aria-label': `Turn ${k + 1}` }, you, reply);
  }

  private figure(
    part: Extract<StoredPart, { type: 'image' }>,
    turn: Turn,
    k: number,
    index: number,
    model: Model | undefined,
  ): HTMLElement {
    const name = `answer ${k + 1}, image ${index + 1}`;
    const item: Attached = { name, dataUrl: part.src, ...(part.ref ? { ref: part.ref } : {}) };
    const img = h('img', { class: 'pixels', src: part.src, alt: `Image the model drew for: ${turn.prompt}`, width: '320', height: '320' });
    makeDraggable(img, item);
    const of = `image ${index + 1} of answer ${k + 1}`;
    return h(
      'figure',
      {},
      img,
      h(
        'figcaption',
        {},
        h('a', { href: part.src, download: `drawing-${k + 1}-${index + 1}.png` }, 'Download PNG'),
        button('Describe this image', () => this.actions.describe(item), { 'aria-label': `Describe this image (${of})` }),
        can(model, 'edit') ? button('Edit this', () => this.actions.edit(item), { 'aria-label': `Edit this: ${of}` }) : null,
        can(model, 'restyle') ? button('Restyle this', () => this.actions.restyle(item), { 'aria-label': `Restyle this: ${of}` }) : null,
        button('Attach to the next turn', () => this.actions.attach(item), { 'aria-label': `Attach ${of} to the next turn` }),
      ),
    );
  }
}

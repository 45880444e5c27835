/** The gallery on the page: each kept thread with its last image, to reopen, run again, describe or delete. */
import { button, h } from './dom.js';
import type { Gallery, Thread } from './gallery.js';

export interface GalleryActions {
  open(thread: Thread): void;
  rerun(thread: Thread): void;
  describe(src: string, model: string): void;
  changed(): void;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

function lastImage(thread: Thread): { src: string; drawn: boolean } | null {
  for (const turn of [...thread.turns].reverse()) {
    const image = [...turn.output].reverse().find((p) => p.type === 'image');
    if (image?.type === 'image') return { src: image.src, drawn: true };
    const given = turn.inputs.at(-1);
    if (given) return { src: given.src, drawn: false };
  }
  return null;
}

export function renderGallery(list: HTMLOListElement, empty: HTMLElement, gallery: Gallery, actions: GalleryActions): void {
  const entries = gallery.list();
  empty.hidden = entries.length > 0;
  list.replaceChildren(
    ...entries.map((thread) => {
      const first = thread.turns[0];
      const last = thread.turns.at(-1);
      if (!first || !last) return h('li', {});
      const prompt = first.prompt;
      const shown = lastImage(thread);
      const text = last.output.flatMap((p) => (p.type === 'text' ? [p.text] : [])).join(' ');
      const turns = thread.turns.length;
      return h(
        'li',
        {},
        shown
          ? h('img', {
              class: 'pixels',
              src: shown.src,
              alt: shown.drawn ? `Drawn for: ${last.prompt}` : 'The image that was described',
              width: '128',
              height: '128',
            })
          : null,
        h('p', { class: 'prompt' }, prompt),
        turns > 1 ? h('p', { class: 'reply' }, `… ${last.prompt}`) : null,
        text ? h('p', { class: 'reply' }, `→ ${text}`) : null,
        h(
          'p',
          { class: 'meta' },
          `${thread.model} · ${turns > 1 ? `${plural(turns, 'turn')} · ` : ''}${last.status} · ${new Date(thread.createdAt).toLocaleString()}`,
        ),
        h(
          'div',
          { class: 'buttons' },
          button('Open', () => actions.open(thread), { 'aria-label': `Open the conversation: ${prompt}` }),
          button('Run again', () => actions.rerun(thread), { 'aria-label': `Run again: ${prompt}` }),
          shown
            ? button('Describe this image', () => actions.describe(shown.src, thread.model), {
                'aria-label': `Describe the image of: ${prompt}`,
              })
            : null,
          button(
            'Delete',
            () => {
              gallery.remove(thread.id);
              actions.changed();
            },
            { 'aria-label': `Delete: ${prompt}` },
          ),
        ),
      );
    }),
  );
}

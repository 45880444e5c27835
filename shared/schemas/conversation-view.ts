/** A job's stored conversation as the API shows it: image keys become signed URLs. */
import type { ObjectStore } from '../ports/store.js';
import type { MessageView, StoredMessage } from './conversation.js';

export async function messagesView(messages: readonly StoredMessage[], store: Pick<ObjectStore, 'urlFor'>): Promise<MessageView[]> {
  return Promise.all(
    messages.map(async (m) => ({
      role: m.role,
      content: await Promise.all(
        m.content.map(async (part): Promise<MessageView['content'][number]> => {
          if (part.type === 'text') return { type: 'text', text: part.text };
          const { key, width, height, generation, index } = part;
          return {
            type: 'image',
            url: await store.urlFor(key),
            width,
            height,
            mime_type: 'image/png',
            ...(generation !== undefined ? { generation } : {}),
            ...(index !== undefined ? { index } : {}),
          };
        }),
      ),
    })),
  );
}

/**
 * What a package says its model was trained to do (manifest `conversation.tasks`,
 * docs/model-package.md). Servers refuse a conversation that needs a task the model does not
 * declare, instead of feeding it a context it has never seen.
 */
export const CONVERSATION_TASKS = ['draw', 'describe', 'edit', 'restyle', 'every_style', 'multi_turn', 'refuse'] as const;
export type ConversationTask = (typeof CONVERSATION_TASKS)[number];

/** What a package without `conversation.tasks` was trained for: the two single-turn tasks. */
export const DEFAULT_TASKS: readonly ConversationTask[] = ['draw', 'describe'];

/** The tasks that read an image in a user turn. */
export const IMAGE_INPUT_TASKS: readonly ConversationTask[] = ['describe', 'edit', 'restyle'];

/** A manifest's declared tasks, or the default. */
export function declaredTasks(manifest: {
  readonly conversation?: { readonly tasks?: readonly ConversationTask[] | undefined } | undefined;
}): readonly ConversationTask[] {
  return manifest.conversation?.tasks ?? DEFAULT_TASKS;
}

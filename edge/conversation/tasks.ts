/**
 * A conversation against what its model declares (manifest `conversation.tasks`): several
 * turns need `multi_turn`; an image in a user turn needs a task that reads one. Checked
 * before any work, so that a model is never fed a context it was not trained on.
 */
import { declaredTasks, IMAGE_INPUT_TASKS, type Manifest } from '../../shared/runtime/index.js';
import type { TurnSpec } from './spec.js';

/** Why the model cannot take these turns, or undefined when it can. */
export function unsupportedBy(model: { name: string; manifest: Manifest }, turns: readonly TurnSpec[]): string | undefined {
  const tasks = declaredTasks(model.manifest);
  const does = `${model.name} does: ${tasks.join(', ')} (GET /v1/models)`;
  if (turns.length > 1 && !tasks.includes('multi_turn')) {
    return `${turns.length} turns: model ${model.name} takes one user turn only (it does not declare multi_turn); ${does}`;
  }
  const imageIn = turns.some((t) => t.role === 'user' && t.parts.some((p) => p.type === 'image'));
  if (imageIn && !IMAGE_INPUT_TASKS.some((task) => tasks.includes(task))) {
    return `an image in a user turn: model ${model.name} reads no input images (it declares none of ${IMAGE_INPUT_TASKS.join(', ')}); ${does}`;
  }
  return undefined;
}

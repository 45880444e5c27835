/** The models a process serves (docs/model-package.md, "Several models"). */

export { drawPromptFor } from '../runtime/template.js';
export { DEFAULT_OWNER, type ModelCard, type ModelPrompts, modelCard } from './card.js';
export {
  type LoadRegistryOptions,
  loadModelRegistry,
  MODEL_NAME,
  ModelRegistry,
  ModelRegistryError,
  type ServedModel,
  servedModel,
  UnknownModelError,
} from './registry.js';
export { RuntimeSet } from './runtimes.js';
export { modelList, modelObject } from './view.js';

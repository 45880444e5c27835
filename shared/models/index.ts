/** The models a process serves (docs/model-package.md, "Several models"). */
export { ModelRegistry, ModelRegistryError, UnknownModelError, loadModelRegistry, servedModel, MODEL_NAME, type ServedModel, type LoadRegistryOptions } from './registry.js';
export { drawPromptFor } from '../runtime/template.js';
export { modelCard, DEFAULT_OWNER, type ModelCard, type ModelPrompts } from './card.js';
export { RuntimeSet } from './runtimes.js';
export { modelObject, modelList } from './view.js';

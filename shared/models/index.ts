/** The models a process serves (docs/model-package.md, "Several models"). */

export { drawPromptFor } from '../runtime/template.js';
export { loadModelRegistry, ModelRegistry, ModelRegistryError, type ServedModel, servedModel, UnknownModelError } from './registry.js';
export { RuntimeSet } from './runtimes.js';
export { modelList, modelObject } from './view.js';

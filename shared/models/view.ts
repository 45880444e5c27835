/** The registry as GET /v1/models shows it (shared/schemas/models.ts). */
import { ModelList, type ModelObject } from '../schemas/models.js';
import type { ModelRegistry, ServedModel } from './registry.js';

export function modelObject(model: ServedModel): ModelObject {
  const { card } = model;
  return {
    id: model.name,
    object: 'model',
    created: card.created,
    owned_by: card.owned_by,
    name: model.name,
    description: card.description,
    image: { ...card.image },
    prompts: {
      draw_prefix: card.prompts.draw_prefix,
      ...(card.prompts.draw_template !== undefined ? { draw_template: card.prompts.draw_template } : {}),
      describe_prompt: card.prompts.describe_prompt,
      ...(card.prompts.styles !== undefined ? { styles: [...card.prompts.styles] } : {}),
    },
    tasks: [...card.tasks],
    sampling: {
      default_steps: card.sampling.default_steps,
      max_steps: card.sampling.max_steps,
      ...(card.sampling.supported_steps ? { supported_steps: [...card.sampling.supported_steps] } : {}),
      guidance: card.sampling.guidance,
      default_guidance: card.sampling.default_guidance,
      ...(card.sampling.guidance_by_steps ? { guidance_by_steps: { ...card.sampling.guidance_by_steps } } : {}),
    },
    licenses: card.licenses.map((l) => ({
      name: l.name,
      spdx: l.spdx,
      source: l.source,
      ...(l.url !== undefined ? { url: l.url } : {}),
      ...(l.attribution !== undefined ? { attribution: l.attribution } : {}),
    })),
    ...(card.data_card ? { data_card: { ...card.data_card } } : {}),
    default: model.isDefault,
  };
}

export function modelList(registry: ModelRegistry): ModelList {
  return ModelList.parse({ object: 'list', data: registry.models.map(modelObject) });
}

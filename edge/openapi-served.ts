/**
 * What the OpenAPI document can say only once the models are known: `ModelName` is an enum
 * of the models served, `ImageSize` of their sizes, and where a rule depends on the model
 * (its size, its tasks, the steps and guidance it samples with), each request schema naming a
 * model gets if/then rules, with the default model's when `model` is absent or null. The server
 * checks the same things (the registry, checkSize, the conversation's tasks, checkSampling), so
 * a schema-valid request is served.
 */

import type { ConversationTask } from '../shared/runtime/tasks.js';
import { LIMITS } from '../shared/schemas/generation.js';
import type { ModelSampling } from '../shared/schemas/models.js';

export interface SpecModel {
  id: string;
  image: { width: number; height: number };
  tasks: readonly ConversationTask[];
  /** Absent: any steps the API takes, guidance adjustable. */
  sampling?: ModelSampling;
  default: boolean;
}

interface Applies {
  size: boolean;
  conversation: boolean;
  /** The schema has numeric `steps` / `guidance` (a form's text fields are left to the server). */
  steps: boolean;
  guidance: boolean;
}

type JsonSchema = Record<string, unknown>;

/** POST /v1/generations's body: what a model's tasks allow in it (prompt images, turns). */
const CONVERSATION_REQUEST = 'CreateGenerationRequest';

const IMAGE_TASKS: readonly ConversationTask[] = ['describe', 'edit', 'restyle'];
const API_MAX_STEPS = LIMITS.steps.max;
const NUMERIC = ['number', 'integer'];
/** A numeric property, nullable or not (`type` a name or a list, or an `anyOf` of such). */
function isNumeric(property: unknown): boolean {
  const p = property as JsonSchema | undefined;
  if (!p) return false;
  const type = p['type'];
  if (typeof type === 'string' ? NUMERIC.includes(type) : Array.isArray(type) && type.some((t) => NUMERIC.includes(t as string)))
    return true;
  return Array.isArray(p['anyOf']) && (p['anyOf'] as unknown[]).some(isNumeric);
}
const sizeOf = (m: SpecModel): string => `${m.image.width}x${m.image.height}`;
const TEXT_ONLY_CONTENT = {
  anyOf: [
    { type: 'string', minLength: 1 },
    { type: 'array', minItems: 1, items: { $ref: '#/components/schemas/MessageTextPart' } },
  ],
};

/** A schema's properties, or its `oneOf` branches' together (POST /v1/generations's body: a prompt or a conversation). */
function propertiesOf(schema: JsonSchema): Record<string, unknown> | undefined {
  const own = schema['properties'] as Record<string, unknown> | undefined;
  const branches = (schema['oneOf'] as JsonSchema[] | undefined)?.map((b) => b['properties'] as Record<string, unknown> | undefined) ?? [];
  return own ?? (branches.length > 0 ? Object.assign({}, ...branches) : undefined);
}

/** Writes the served models into `schemas` (the document's components), in place. */
export function stateServedModels(schemas: Record<string, JsonSchema>, models: readonly SpecModel[]): void {
  const names = models.map((m) => m.id);
  const sizes = [...new Set(models.map(sizeOf))];
  if (schemas['ModelName'])
    schemas['ModelName'] = { type: 'string', enum: names, description: schemas['ModelName']['description'], example: names[0] };
  if (schemas['ImageSize'])
    schemas['ImageSize'] = { type: 'string', enum: sizes, description: schemas['ImageSize']['description'], example: sizes[0] };
  for (const [name, schema] of Object.entries(schemas)) {
    nullableRefs(schema);
    const conversation = name === CONVERSATION_REQUEST;
    const properties = propertiesOf(schema);
    if (!properties?.['model'] && !conversation) continue;
    const rules = modelRules(models, {
      size: sizes.length > 1 && properties?.['size'] !== undefined,
      conversation,
      steps: isNumeric(properties?.['steps']),
      guidance: isNumeric(properties?.['guidance']),
    });
    if (rules.length > 0) schema['allOf'] = [...((schema['allOf'] as unknown[] | undefined) ?? []), ...rules];
  }
}

/** The rules one model adds to a request naming it; none when it can do all a request can ask. */
function constraintsOf(m: SpecModel, what: Applies): JsonSchema | undefined {
  const properties: Record<string, JsonSchema> = {};
  if (what.size) properties['size'] = { enum: [sizeOf(m), null] };
  const sampling = m.sampling;
  if (what.steps && sampling?.supported_steps) properties['steps'] = { enum: [...sampling.supported_steps, null] };
  else if (what.steps && sampling && sampling.max_steps < API_MAX_STEPS) properties['steps'] = { maximum: sampling.max_steps };
  if (what.guidance && sampling?.guidance === 'fixed') properties['guidance'] = { enum: [sampling.default_guidance, null] };
  if (what.conversation && !m.tasks.includes('multi_turn')) properties['messages'] = { maxItems: 1 };
  if (what.conversation && !m.tasks.some((t) => IMAGE_TASKS.includes(t))) {
    // No input image at all (a model that reads none is refused one, 400 unsupported_conversation).
    properties['images'] = { maxItems: 0 };
    properties['messages'] = { ...properties['messages'], items: { properties: { content: TEXT_ONLY_CONTENT } } };
  }
  return Object.keys(properties).length > 0 ? { properties } : undefined;
}

function modelRules(models: readonly SpecModel[], what: Applies): JsonSchema[] {
  const rules: JsonSchema[] = [];
  for (const m of models) {
    const then = constraintsOf(m, what);
    if (then) rules.push({ if: { properties: { model: { const: m.id } }, required: ['model'] }, then });
  }
  const fallback = models.find((m) => m.default) ?? models[0];
  const otherwise = fallback && constraintsOf(fallback, what);
  if (otherwise) rules.push({ if: { properties: { model: { type: 'string' } }, required: ['model'] }, else: otherwise });
  return rules;
}

/**
 * zod writes `ModelName.nullish()` as `allOf: [$ref, {type: [string, null]}]`, which allows
 * no null (the component is a string enum); the server takes null as absent (OpenAI's
 * clients send it), so such a property becomes `anyOf: [$ref, null]`.
 */
function nullableRefs(schema: JsonSchema): void {
  const properties = schema['properties'] as Record<string, JsonSchema> | undefined;
  for (const [key, property] of Object.entries(properties ?? {})) {
    const all = property['allOf'] as JsonSchema[] | undefined;
    const [target, nullable] = all ?? [];
    const types = nullable?.['type'];
    if (all?.length === 2 && typeof target?.['$ref'] === 'string' && Array.isArray(types) && types.includes('null')) {
      const { allOf: _allOf, ...rest } = property;
      properties![key] = { ...rest, anyOf: [target, { type: 'null' }] };
    }
  }
}

/** The document states the models served and the body rules zod checks in refinements. */
import { describe, expect, it } from 'vitest';
import { stateRequestForms } from './openapi-forms.js';
import { type SpecModel, stateServedModels } from './openapi-served.js';

type Schemas = Record<string, Record<string, unknown>>;

const model = (id: string, size: number, tasks: SpecModel['tasks'], isDefault = false): SpecModel => ({
  id,
  image: { width: size, height: size },
  tasks,
  default: isDefault,
});
const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

function components(): Schemas {
  return {
    ModelName: { type: 'string', minLength: 1, description: 'A model.' },
    ImageSize: { type: 'string', description: 'A size.' },
    ImagesRequest: {
      type: 'object',
      properties: {
        model: { allOf: [ref('ModelName'), { type: ['string', 'null'] }] },
        size: { allOf: [ref('ImageSize'), { type: ['string', 'null'] }] },
      },
    },
    CreateGenerationRequest: {
      type: 'object',
      properties: {
        prompt: { type: 'string' },
        model: ref('ModelName'),
        images: { type: 'array' },
        messages: { type: 'array', items: ref('Message'), minItems: 1, maxItems: 32 },
        seed: { type: 'integer' },
      },
      additionalProperties: false,
    },
  };
}

describe('stateServedModels', () => {
  it('makes model and size enums of what is served, null still allowed where zod takes it', () => {
    const schemas = components();
    stateServedModels(schemas, [
      model('a', 64, ['draw', 'describe', 'multi_turn'], true),
      model('b', 64, ['draw', 'describe', 'multi_turn']),
    ]);
    expect(schemas['ModelName']).toMatchObject({ type: 'string', enum: ['a', 'b'] });
    expect(schemas['ImageSize']).toMatchObject({ type: 'string', enum: ['64x64'] });
    const images = schemas['ImagesRequest']!['properties'] as Record<string, unknown>;
    expect(images['model']).toEqual({ anyOf: [ref('ModelName'), { type: 'null' }] });
    expect(images['size']).toEqual({ anyOf: [ref('ImageSize'), { type: 'null' }] });
    // One size and every task: nothing depends on the model.
    expect(schemas['ImagesRequest']!['allOf']).toBeUndefined();
    expect(schemas['CreateGenerationRequest']!['allOf']).toBeUndefined();
  });

  it('ties a size to its model, and the default model to a request without one, where sizes differ', () => {
    const schemas = components();
    stateServedModels(schemas, [model('small', 32, ['draw'], true), model('big', 64, ['draw'])]);
    expect(schemas['ImageSize']!['enum']).toEqual(['32x32', '64x64']);
    expect(schemas['ImagesRequest']!['allOf']).toEqual([
      // biome-ignore lint/suspicious/noThenProperty: a JSON Schema if/then rule, as the served document has it
      { if: { properties: { model: { const: 'small' } }, required: ['model'] }, then: { properties: { size: { enum: ['32x32', null] } } } },
      // biome-ignore lint/suspicious/noThenProperty: a JSON Schema if/then rule, as the served document has it
      { if: { properties: { model: { const: 'big' } }, required: ['model'] }, then: { properties: { size: { enum: ['64x64', null] } } } },
      { if: { properties: { model: { type: 'string' } }, required: ['model'] }, else: { properties: { size: { enum: ['32x32', null] } } } },
    ]);
  });

  it("limits a conversation to one turn and no image for a model without those tasks (shapes64's default tasks read images)", () => {
    const schemas = components();
    stateServedModels(schemas, [
      model('chat', 64, ['draw', 'describe', 'multi_turn']),
      model('plain', 64, ['draw', 'describe'], true),
      model('drawer', 64, ['draw']),
    ]);
    const rules = schemas['CreateGenerationRequest']!['allOf'] as {
      if: unknown;
      then?: { properties: Record<string, unknown> };
      else?: { properties: Record<string, unknown> };
    }[];
    expect(rules.map((r) => r.if)).toEqual([
      { properties: { model: { const: 'plain' } }, required: ['model'] },
      { properties: { model: { const: 'drawer' } }, required: ['model'] },
      { properties: { model: { type: 'string' } }, required: ['model'] },
    ]);
    expect(rules[0]!.then!.properties).toEqual({ messages: { maxItems: 1 } });
    expect(rules[1]!.then!.properties['images']).toEqual({ maxItems: 0 });
    expect(rules[1]!.then!.properties['messages']).toMatchObject({ maxItems: 1, items: { properties: { content: expect.any(Object) } } });
    expect(rules[2]!.else!.properties).toEqual({ messages: { maxItems: 1 } });
  });
});

describe('stateRequestForms', () => {
  it('writes the two forms of POST /v1/generations as a oneOf, and messages as alternating turns of odd number', () => {
    const schemas = components();
    stateRequestForms(schemas);
    const [prompt, conversation] = schemas['CreateGenerationRequest']!['oneOf'] as {
      properties: Record<string, Record<string, unknown>>;
      required: string[];
      additionalProperties: boolean;
    }[];
    expect(Object.keys(prompt!.properties)).toEqual(['prompt', 'images', 'model', 'seed']);
    expect(prompt!.required).toEqual(['prompt']);
    expect(Object.keys(conversation!.properties)).toEqual(['messages', 'model', 'seed']);
    expect(conversation!.required).toEqual(['messages']);
    expect(prompt!.additionalProperties).toBe(false);
    const messages = conversation!.properties['messages']!;
    expect(messages['maxItems']).toBe(31);
    expect(messages['items']).toBe(false);
    const roles = (messages['prefixItems'] as { $ref: string }[]).map((r) => r.$ref.split('/').pop());
    expect(roles.slice(0, 3)).toEqual(['UserMessage', 'AssistantMessage', 'UserMessage']);
    expect(roles).toHaveLength(31);
    const lengths = (messages['anyOf'] as { minItems: number; maxItems: number }[]).map((l) => l.minItems);
    expect(lengths).toEqual(Array.from({ length: 16 }, (_, k) => 2 * k + 1));
    expect(schemas['UserMessage']!['allOf']).toEqual([ref('Message'), { properties: { role: { const: 'user' } } }]);
  });
});

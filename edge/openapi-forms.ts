/**
 * POST /v1/generations's body as JSON Schema can state it exactly. zod checks two rules of it
 * in a refinement, which its JSON Schema output leaves out: exactly one of the two forms
 * (`prompt` with optional `images`, or `messages`), and turns that alternate user, assistant,
 * ..., user (an odd number). Here the document writes them out: a `oneOf` of the two forms,
 * and `messages` as a tuple of alternating roles whose length is odd.
 */
type JsonSchema = Record<string, unknown>;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** Rewrites `CreateGenerationRequest` (and adds `UserMessage`, `AssistantMessage`) in place. */
export function stateRequestForms(schemas: Record<string, JsonSchema>): void {
  const request = schemas['CreateGenerationRequest'];
  const properties = request?.['properties'] as Record<string, JsonSchema> | undefined;
  if (!request || !properties?.['prompt'] || !properties['messages']) return;
  const { prompt, images, messages, ...common } = properties;
  schemas['UserMessage'] = { allOf: [ref('Message'), { properties: { role: { const: 'user' } } }], description: 'A message of the user.' };
  schemas['AssistantMessage'] = {
    allOf: [ref('Message'), { properties: { role: { const: 'assistant' } } }],
    description: 'A message of the assistant (what the model answered).',
  };
  const form = (props: Record<string, unknown>, required: string, title: string) => ({
    type: 'object',
    title,
    properties: { ...props, ...common },
    required: [required],
    additionalProperties: false,
  });
  schemas['CreateGenerationRequest'] = {
    description: 'A prompt (with optional input images) or a conversation (`messages`): exactly one of the two.',
    oneOf: [
      form({ prompt, ...(images ? { images } : {}) }, 'prompt', 'prompt'),
      form({ messages: alternating(messages) }, 'messages', 'messages'),
    ],
  };
}

/** `messages` of at most `maxItems` turns: user first, then alternating, an odd number. */
function alternating(messages: JsonSchema): JsonSchema {
  const { items: _items, minItems: _min, maxItems, ...rest } = messages;
  const longest = typeof maxItems === 'number' ? maxItems - (1 - (maxItems % 2)) : 31;
  const odd = Array.from({ length: (longest + 1) / 2 }, (_, k) => ({ minItems: 2 * k + 1, maxItems: 2 * k + 1 }));
  return {
    ...rest,
    type: 'array',
    prefixItems: Array.from({ length: longest }, (_, i) => (i % 2 === 0 ? ref('UserMessage') : ref('AssistantMessage'))),
    items: false,
    minItems: 1,
    maxItems: longest,
    anyOf: odd,
  };
}

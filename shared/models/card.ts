/**
 * What a client is told about a model (GET /v1/models), read from its manifest: the optional
 * fields (`description`, `licenses`, `conversation.draw_template`, `conversation.styles`,
 * `conversation.tasks`, `data_card`) get plain defaults when a package does not have them.
 */
import {
  type ConversationPrompts,
  type ConversationTask,
  DEFAULT_PROMPTS,
  declaredTasks,
  type Manifest,
  type ManifestLicense,
  type Sampling,
  samplingOf,
} from '../runtime/index.js';

export type ModelPrompts = ConversationPrompts;

export interface ModelCard {
  readonly description: string;
  /** Unix seconds: the manifest's `created`, else when manifest.json was written. */
  readonly created: number;
  readonly owned_by: string;
  readonly image: { readonly width: number; readonly height: number };
  readonly prompts: ModelPrompts;
  /** What it was trained to do (`conversation.tasks`; draw and describe when not declared). */
  readonly tasks: readonly ConversationTask[];
  /** Steps and guidance it samples with (the manifest's `diffusion`; older packages: any steps, adjustable guidance). */
  readonly sampling: Sampling;
  readonly licenses: readonly ManifestLicense[];
  /** The manifest's data card as it is (what the model was trained on), when it has one. */
  readonly data_card?: Readonly<Record<string, unknown>>;
}

/** Who `owned_by` names when the manifest does not say: this project (it trains and exports every package). */
export const DEFAULT_OWNER = 'unified-image-text';

export function modelCard(name: string, manifest: Manifest, fileCreated: number): ModelCard {
  const conversation = manifest.conversation;
  const prompts: ModelPrompts = {
    draw_prefix: conversation?.draw_prefix ?? DEFAULT_PROMPTS.draw_prefix,
    ...(conversation?.draw_template !== undefined ? { draw_template: conversation.draw_template } : {}),
    describe_prompt: conversation?.describe_prompt ?? DEFAULT_PROMPTS.describe_prompt,
    ...(conversation?.styles !== undefined ? { styles: conversation.styles } : {}),
  };
  const { width, height } = manifest.image;
  const created = manifest['created'];
  const owner = manifest['owned_by'];
  const dataCard = manifest.data_card;
  return {
    description: manifest.description ?? `${name}: a text-and-image model (${width} x ${height} images).`,
    created: typeof created === 'number' && Number.isInteger(created) && created >= 0 ? created : fileCreated,
    owned_by: typeof owner === 'string' && owner.length > 0 ? owner : DEFAULT_OWNER,
    image: { width, height },
    prompts,
    tasks: declaredTasks(manifest),
    sampling: samplingOf(manifest),
    licenses: manifest.licenses ?? [],
    ...(isRecord(dataCard) ? { data_card: dataCard } : {}),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The model runtime's public surface (see docs/model-package.md). */

export { GRAPH_INPUTS, GRAPH_OUTPUTS } from './graph-names.js';
export {
  loadPackage,
  type Manifest,
  type ManifestLicense,
  type ModelPackage,
  ModelPackageError,
  manifestSchema,
  parseManifest,
  sha256File,
} from './manifest.js';
export { attentionMask, MASKED } from './mask.js';
export { loadModelInfo, type ModelInfo } from './model-info.js';
export { type ImageGeometry, patchesToRgb, rgbaOnWhite, rgbToPatches } from './pixels.js';
export { imagePositions, textPositions } from './positions.js';
export { type GraphFiles, graphFileFor, graphFilesFor, isPrecision, PRECISIONS, type Precision, resolvePrecision } from './precision.js';
export { mulberry32, standardNormal } from './prng.js';
export { type SampleImageOptions, sampleImage } from './sample-image.js';
export { applyGuidance, eulerStep, guidanceApplies, shiftTime, timeGrid } from './sampler.js';
export {
  checkSampling,
  defaultGuidance,
  describeSteps,
  type GuidanceMode,
  MAX_API_STEPS,
  needsUnconditional,
  type Sampling,
  type SamplingRefusal,
  samplingOf,
  stepsSupported,
} from './sampling.js';
export { type SeedPurpose, streamSeed } from './seeds.js';
export { createRuntime, OnnxModelRuntime, type RuntimeOptions } from './session.js';
export { CONVERSATION_TASKS, type ConversationTask, DEFAULT_TASKS, declaredTasks, IMAGE_INPUT_TASKS } from './tasks.js';
export {
  type Content,
  type ConversationPrompts,
  conversationContext,
  DEFAULT_PROMPTS,
  describeContext,
  drawContext,
  drawPromptFor,
  drawTurn,
  type Turn,
  uncondContext,
  userTurn,
} from './template.js';
export {
  PRETOKENIZE_PATTERN,
  SPECIAL_TOKEN_NAMES,
  type SpecialTokenName,
  type SpecialTokens,
  Tokenizer,
  tokenizerFromJson,
} from './tokenizer.js';
export type * from './types.js';

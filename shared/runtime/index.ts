/** The model runtime's public surface (see docs/model-package.md). */
export type * from './types.js';
export { createRuntime, OnnxModelRuntime, type RuntimeOptions } from './session.js';
export { loadModelInfo, type ModelInfo } from './model-info.js';
export { PRECISIONS, isPrecision, resolvePrecision, graphFileFor, graphFilesFor, type GraphFiles, type Precision } from './precision.js';
export { loadPackage, parseManifest, manifestSchema, sha256File, ModelPackageError, type Manifest, type ManifestLicense, type ModelPackage } from './manifest.js';
export { GRAPH_INPUTS, GRAPH_OUTPUTS } from './graph-names.js';
export { Tokenizer, tokenizerFromJson, PRETOKENIZE_PATTERN, SPECIAL_TOKEN_NAMES, type SpecialTokens, type SpecialTokenName } from './tokenizer.js';
export { drawPromptFor, conversationContext, userTurn, drawTurn, drawContext, describeContext, uncondContext, DEFAULT_PROMPTS, type Content, type ConversationPrompts, type Turn } from './template.js';
export { rgbToPatches, patchesToRgb, rgbaOnWhite, type ImageGeometry } from './pixels.js';
export { sampleImage, type SampleImageOptions } from './sample-image.js';
export { timeGrid, shiftTime, guidanceApplies, applyGuidance, eulerStep } from './sampler.js';
export { mulberry32, standardNormal } from './prng.js';
export { textPositions, imagePositions } from './positions.js';
export { attentionMask, MASKED } from './mask.js';
export { streamSeed, type SeedPurpose } from './seeds.js';
export { CONVERSATION_TASKS, DEFAULT_TASKS, IMAGE_INPUT_TASKS, declaredTasks, type ConversationTask } from './tasks.js';
export { samplingOf, checkSampling, describeSteps, stepsSupported, needsUnconditional, MAX_API_STEPS, type Sampling, type SamplingRefusal, type GuidanceMode } from './sampling.js';

/** A request's conversation: its turns (spec), the model's tasks, its images, its context. */
export { turnsFromBody, storedMessages, type ImageSource, type PartSpec, type TurnSpec } from './spec.js';
export { unsupportedBy } from './tasks.js';
export { prepareConversation, type PrepareOptions, type PreparedConversation, type RefusalFactory } from './prepare.js';

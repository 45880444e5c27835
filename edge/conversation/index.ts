/** A request's conversation: its turns (spec), the model's tasks, its images, its context. */

export { prepareConversation, type RefusalFactory } from './prepare.js';
export { type ImageSource, type PartSpec, storedMessages, type TurnSpec, turnsFromBody } from './spec.js';

export * from './status.js';
export * from './record.js';
export * from './message.js';
export * from './repository.js';
export * from './dead-letters.js';

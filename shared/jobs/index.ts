export * from './dead-letters.js';
export * from './message.js';
export * from './record.js';
export * from './repository.js';
export * from './status.js';

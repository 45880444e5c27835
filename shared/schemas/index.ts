export * from './errors.js';
export * from './generation.js';
export * from './job.js';
export * from './parts.js';
export * from './view.js';

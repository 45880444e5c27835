/** Several models end to end (models-suite.ts) on the embedded default: SQLite queue + file store. */
import { embeddedBackend } from './backends.js';
import { modelsSuite } from './models-suite.js';

modelsSuite('the embedded back end (SQLite + files)', async () => embeddedBackend());

/**
 * The end-to-end suite (system-suite.ts) on the embedded default: SQLite queue + file store
 * under a temporary DATA_DIR. system-aws.test.ts runs the same suite on the local S3/SQS servers.
 */
import { embeddedBackend } from './backends.js';
import { systemSuite } from './system-suite.js';

systemSuite('the embedded back end (SQLite + files)', async () => embeddedBackend());

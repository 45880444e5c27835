/**
 * Synthesis of the app for the tests, with cdk.json's feature flags. Bundling is skipped
 * (the edge bundle has its own test), so this needs neither edge/lambda.ts nor the model
 * package; the worker image is only fingerprinted (never built) at synth anyway.
 */
import { readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../lib/app.js';
import type { UnifiedModelStack } from '../lib/stack.js';

const INFRA = path.resolve(import.meta.dirname, '..');

export interface Synthesized {
  readonly stack: UnifiedModelStack;
  readonly template: Template;
  readonly outdir: string;
}

export function synthesize(options: { context?: Record<string, unknown>; mutate?: (stack: UnifiedModelStack) => void } = {}): Synthesized {
  const cdkJson = JSON.parse(readFileSync(path.join(INFRA, 'cdk.json'), 'utf8')) as { context: Record<string, unknown> };
  const outdir = path.join(os.tmpdir(), `infra-test-${process.pid}-${Math.random().toString(36).slice(2)}`);
  const { app, stack } = createApp({
    outdir,
    context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], ...options.context },
  });
  options.mutate?.(stack);
  try {
    app.synth(); // throws when a cdk-nag finding is not acknowledged
  } catch (error) {
    rmSync(outdir, { recursive: true, force: true });
    throw error;
  }
  return { stack, template: Template.fromStack(stack), outdir };
}

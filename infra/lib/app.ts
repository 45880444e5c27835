/**
 * Builds the CDK app: the stack plus cdk-nag's AwsSolutions checks. Shared by bin/app.ts
 * and the tests, so that the tests check exactly what `cdk synth` produces.
 */
import { App, type AppProps, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { UnifiedModelStack, type UnifiedModelStackProps } from './stack.js';

export const STACK_DESCRIPTION =
  'Unified text-and-image model: edge on Lambda + HTTP API, jobs on SQS, images on S3, GPU workers on ECS (scale to zero).';

export function createApp(appProps: AppProps = {}, stackProps: UnifiedModelStackProps = {}): { app: App; stack: UnifiedModelStack } {
  const app = new App(appProps);
  const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'UnifiedModel';
  const stack = new UnifiedModelStack(app, stackName, { description: STACK_DESCRIPTION, ...stackProps });
  // Every AwsSolutions finding that is not acknowledged (with its reason, next to the
  // resource) fails synthesis: `cdk synth` exits non-zero and app.synth() throws.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  return { app, stack };
}

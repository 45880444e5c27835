/**
 * The two build artifacts of the stack, made from the repository at synth/deploy time:
 * - the edge Lambda bundle, built locally by scripts/bundle-edge.ts (esbuild; no Docker);
 * - the worker image, gpu-worker/Dockerfile with the repository root as build context.
 *   `cdk synth` only fingerprints and stages the context; `cdk deploy` runs docker build
 *   and pushes to the bootstrap ECR repository.
 */
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import * as ecrAssets from 'aws-cdk-lib/aws-ecr-assets';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { bundleEdge, REPO_ROOT } from '../scripts/bundle-edge.js';

/** Inside the Lambda bundle each model package keeps its repository-relative path. */
export const lambdaModelDir = (modelDir: string): string => `/var/task/${modelDir}`;
/** Inside the worker image the repository lives at /app (see gpu-worker/Dockerfile). */
export const workerModelDir = (modelDir: string): string => `/app/${modelDir}`;

/** The bundle of the edge with every model package it serves. */
export function edgeCode(models: readonly string[], repoRoot: string = REPO_ROOT): lambda.Code {
  return lambda.Code.fromAsset(repoRoot, {
    // Hash the bundle, not the repository: the source folder is only a placeholder.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      // Never used: local bundling always succeeds or throws.
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24-bookworm-slim'),
      local: {
        tryBundle(outputDir: string): boolean {
          bundleEdge({ repoRoot, outDir: outputDir, models });
          return true;
        },
      },
    },
  });
}

/** The worker image: it holds every package under packages/; MODELS names the ones it serves. */
export function workerImage(models: readonly string[], repoRoot: string = REPO_ROOT): ecs.ContainerImage {
  return ecs.ContainerImage.fromAsset(repoRoot, {
    file: 'gpu-worker/Dockerfile',
    // onnxruntime-node's CUDA provider exists for linux/x64 only; also when built on arm64 laptops.
    platform: ecrAssets.Platform.LINUX_AMD64,
    buildArgs: { MODELS: models.join(',') },
    // The build context is filtered by the root .dockerignore (an allow-list), which CDK
    // also applies when it fingerprints and stages the context at synth.
  });
}

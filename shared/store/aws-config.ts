/**
 * Client settings shared by the S3 and SQS adapters. Everything is optional so that on
 * AWS the SDK's own chain (role credentials, AWS_REGION) applies; tests and local servers
 * pass an endpoint and fixed credentials.
 */
import { z } from 'zod';

export const AwsClientConfig = z.object({
  region: z.string().min(1).optional(),
  /** Overrides the service endpoint, e.g. http://127.0.0.1:7070 for a local server. */
  endpoint: z.url({ protocol: /^https?$/ }).optional(),
  credentials: z
    .object({
      accessKeyId: z.string().min(1),
      secretAccessKey: z.string().min(1),
      sessionToken: z.string().min(1).optional(),
    })
    .strict()
    .optional(),
  /** SDK retry attempts (the SDK's default is 3). */
  maxAttempts: z.number().int().min(1).max(20).optional(),
});
export type AwsClientConfig = z.input<typeof AwsClientConfig>;

export interface AwsClientOptions {
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  maxAttempts?: number;
}

/** Drops absent fields so the SDK falls back to its defaults for them. */
export function awsClientOptions(c: z.output<typeof AwsClientConfig>, service: 's3' | 'sqs'): AwsClientOptions {
  const region = c.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!region) throw new Error(`${service}: no region configured (set region or AWS_REGION)`);
  const out: AwsClientOptions = { region };
  if (c.endpoint) out.endpoint = c.endpoint;
  if (c.credentials) out.credentials = c.credentials;
  if (c.maxAttempts) out.maxAttempts = c.maxAttempts;
  return out;
}

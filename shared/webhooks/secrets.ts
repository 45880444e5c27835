/**
 * Webhook signing secrets by tenant: WEBHOOK_SECRETS (`tenant:whsec_...`, comma-separated)
 * and WEBHOOK_SECRET (every tenant without its own). A secret is `whsec_` and base64, as the
 * Standard Webhooks libraries write and read it.
 */
import { Webhook } from 'standardwebhooks';

export interface WebhookSecrets {
  byTenant: Readonly<Record<string, string>>;
  fallback?: string;
}

export const SECRET_PATTERN = /^whsec_[A-Za-z0-9+/]{16,}={0,2}$/;

/** Whether the library accepts it (the base64 decodes to a key). */
export function isUsableSecret(secret: string): boolean {
  if (!SECRET_PATTERN.test(secret)) return false;
  try {
    new Webhook(secret);
    return true;
  } catch {
    return false;
  }
}

/** The tenant a job record belongs to (the field the tenancy layer sets), if any. */
export function tenantOf(record: object): string | undefined {
  const tenant = (record as { tenant?: unknown }).tenant;
  return typeof tenant === 'string' && tenant.length > 0 ? tenant : undefined;
}

export function secretFor(secrets: WebhookSecrets, tenant: string | undefined): string | undefined {
  return (tenant !== undefined ? secrets.byTenant[tenant] : undefined) ?? secrets.fallback;
}

/**
 * The edge's check of a request's `webhook` field, before any model work: a URL the SSRF
 * guard accepts (https, no literal private address; the resolved address is checked again
 * at delivery) and a signing secret for the tenant. A refusal is 400 invalid_webhook.
 */
import type { WebhookSettings } from '../../shared/webhooks/deliver.js';
import { resolveWebhook, type StoredWebhook, type WebhookRequest } from '../../shared/webhooks/schema.js';
import { secretFor } from '../../shared/webhooks/secrets.js';
import { checkWebhookUrl } from '../../shared/webhooks/url-policy.js';
import { ApiError } from '../errors.js';

export function checkWebhookRequest(
  request: WebhookRequest,
  settings: WebhookSettings | undefined,
  tenant: string | undefined,
): StoredWebhook {
  const verdict = checkWebhookUrl(request.url, { allowPrivate: settings?.allowPrivate ?? false });
  if (!verdict.ok) throw new ApiError('invalid_webhook', verdict.problem);
  if (!settings || !secretFor(settings.secrets, tenant)) {
    throw new ApiError(
      'invalid_webhook',
      'webhooks are not available: the server has no signing secret for this tenant (WEBHOOK_SECRETS or WEBHOOK_SECRET)',
    );
  }
  return resolveWebhook({ ...request, url: verdict.url.href });
}

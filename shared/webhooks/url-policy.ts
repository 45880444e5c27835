/**
 * Which webhook URLs are acceptable before any connection: https only, no credentials in
 * the URL, and no literal private address or localhost. WEBHOOK_ALLOW_PRIVATE=1 (tests,
 * private networks) allows private addresses and plain http. The address a name resolves
 * to is checked again at every delivery (http-post.ts), where DNS can no longer change it.
 */
import { isIP } from 'node:net';
import { isPublicAddress } from './address.js';

export interface WebhookUrlPolicy {
  allowPrivate: boolean;
}

export type UrlVerdict = { ok: true; url: URL } | { ok: false; problem: string };

export function checkWebhookUrl(raw: string, policy: WebhookUrlPolicy): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, problem: 'webhook.url is not an absolute URL' };
  }
  const httpOk = policy.allowPrivate && url.protocol === 'http:';
  if (url.protocol !== 'https:' && !httpOk) return { ok: false, problem: 'webhook.url must be https' };
  if (url.username || url.password) return { ok: false, problem: 'webhook.url may not carry credentials' };
  if (policy.allowPrivate) return { ok: true, url };
  const host = hostOf(url);
  if (host === 'localhost' || host.endsWith('.localhost')) return { ok: false, problem: 'webhook.url may not point at localhost' };
  if (isIP(host) && !isPublicAddress(host))
    return { ok: false, problem: 'webhook.url may not point at a private, loopback or link-local address' };
  return { ok: true, url };
}

/** The URL's host without IPv6 brackets, lower case. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

import { describe, expect, it } from 'vitest';
import type { WebhookSettings } from '../../shared/webhooks/deliver.js';
import { ApiError } from '../errors.js';
import { checkWebhookRequest } from './webhook-request.js';

const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const settings = (over: Partial<WebhookSettings> = {}): WebhookSettings => ({
  secrets: { byTenant: { acme: secret } },
  allowPrivate: false,
  retryBaseMs: 10_000,
  timeoutMs: 10_000,
  ...over,
});

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof ApiError) return `${err.status} ${err.code}: ${err.message}`;
    throw err;
  }
  return 'accepted';
}

describe('checkWebhookRequest', () => {
  it('accepts a public https URL for a tenant with a secret, events defaulting to completed', () => {
    expect(checkWebhookRequest({ url: 'https://hooks.example.com/x' }, settings(), 'acme')).toEqual({
      url: 'https://hooks.example.com/x',
      events: ['completed'],
    });
    expect(
      checkWebhookRequest({ url: 'https://hooks.example.com/x', events: ['progress', 'start', 'progress'] }, settings(), 'acme').events,
    ).toEqual(['progress', 'start']);
  });

  it('refuses a tenant without a secret (unless a fallback serves every tenant), and a server without webhook settings', () => {
    expect(codeOf(() => checkWebhookRequest({ url: 'https://hooks.example.com/x' }, settings(), 'globex'))).toMatch(
      /^400 invalid_webhook: .*no signing secret for this tenant/,
    );
    expect(
      codeOf(() =>
        checkWebhookRequest(
          { url: 'https://hooks.example.com/x' },
          settings({ secrets: { byTenant: { acme: secret }, fallback: secret } }),
          'globex',
        ),
      ),
    ).toBe('accepted');
    expect(codeOf(() => checkWebhookRequest({ url: 'https://hooks.example.com/x' }, undefined, 'acme'))).toMatch(/^400 invalid_webhook/);
  });

  it.each([
    ['http://hooks.example.com/x', 'https'],
    ['https://127.0.0.1/x', 'private'],
    ['https://[fd00::1]/x', 'private'],
    ['https://metadata.localhost/x', 'localhost'],
    ['https://user:pw@hooks.example.com/x', 'credentials'],
  ])('refuses %s (%s) before any model work', (url, why) => {
    expect(codeOf(() => checkWebhookRequest({ url }, settings(), 'acme'))).toMatch(new RegExp(`^400 invalid_webhook: .*${why}`));
  });

  it('allows private addresses over http with WEBHOOK_ALLOW_PRIVATE', () => {
    expect(codeOf(() => checkWebhookRequest({ url: 'http://10.0.0.7:8080/x' }, settings({ allowPrivate: true }), 'acme'))).toBe('accepted');
  });
});

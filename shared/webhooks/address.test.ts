import { describe, expect, it } from 'vitest';
import { isPublicAddress } from './address.js';
import { nextAttemptAt, RETRY_WINDOW_MS } from './schedule.js';
import { checkWebhookUrl } from './url-policy.js';

describe('isPublicAddress', () => {
  it.each(['8.8.8.8', '1.1.1.1', '2606:4700:4700::1111', '93.184.216.34'])('%s is public', (a) => expect(isPublicAddress(a)).toBe(true));
  it.each([
    '127.0.0.1',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254', // cloud metadata
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '255.255.255.255',
    '::1',
    '::',
    'fe80::1',
    'fd00::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:169.254.169.254',
    '64:ff9b::a00:1',
    'not-an-ip',
  ])('%s is not', (a) => expect(isPublicAddress(a)).toBe(false));
});

describe('checkWebhookUrl', () => {
  const strict = { allowPrivate: false };
  it('takes public https URLs', () => {
    expect(checkWebhookUrl('https://example.com/hook?x=1', strict)).toMatchObject({ ok: true });
    expect(checkWebhookUrl('https://93.184.216.34/hook', strict)).toMatchObject({ ok: true });
  });
  it.each([
    ['http://example.com/hook', 'https'],
    ['ftp://example.com/hook', 'https'],
    ['https://user:pw@example.com/', 'credentials'],
    ['https://localhost/hook', 'localhost'],
    ['https://api.localhost/hook', 'localhost'],
    ['https://127.0.0.1/hook', 'private'],
    ['https://[::1]/hook', 'private'],
    ['https://169.254.169.254/latest/meta-data', 'private'],
    ['https://0x7f000001/hook', 'private'], // the URL parser normalises it to 127.0.0.1
    ['not a url', 'absolute'],
  ])('refuses %s', (url, why) => {
    const verdict = checkWebhookUrl(url, strict);
    expect(verdict.ok).toBe(false);
    if (!verdict.ok) expect(verdict.problem).toContain(why);
  });
  it('WEBHOOK_ALLOW_PRIVATE allows loopback over plain http', () => {
    expect(checkWebhookUrl('http://127.0.0.1:8080/hook', { allowPrivate: true })).toMatchObject({ ok: true });
  });
});

describe('nextAttemptAt', () => {
  it('backs off 4x a step and stops 24 h after the first attempt', () => {
    const first = 1_000_000;
    let now = first;
    const waits: number[] = [];
    for (let attempt = 1; ; attempt += 1) {
      const next = nextAttemptAt(attempt, first, now, 10_000);
      if (next === null) break;
      waits.push(next - now);
      now = next;
    }
    expect(waits.slice(0, 4)).toEqual([10_000, 40_000, 160_000, 640_000]);
    expect(Math.max(...waits)).toBeLessThanOrEqual(6 * 3600 * 1000);
    expect(now - first).toBeLessThanOrEqual(RETRY_WINDOW_MS);
    expect(now - first).toBeGreaterThan(RETRY_WINDOW_MS / 2);
  });
});

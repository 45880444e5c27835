import { describe, expect, it } from 'vitest';
import { LocalUrlSigner } from './signed-urls.js';

const secret = 'a-test-secret-of-32-characters!!';

function parts(url: string): { key: string; expires: string; sig: string } {
  const u = new URL(url, 'http://x');
  return {
    key: decodeURIComponent(u.pathname.slice('/v1/files/'.length)),
    expires: u.searchParams.get('expires')!,
    sig: u.searchParams.get('sig')!,
  };
}

describe('LocalUrlSigner', () => {
  it('signs a key with an expiry that it then accepts until it passes', async () => {
    let now = Date.parse('2026-01-01T00:00:10Z');
    const signer = new LocalUrlSigner({ secret, expiresSeconds: 3600, now: () => now });
    const url = await signer.urlFor('outputs/gen_a/0.png');
    const { key, expires, sig } = parts(url);
    expect(key).toBe('outputs/gen_a/0.png');
    // Rounded up to a whole minute: between 1 h and 1 h + 1 min from now.
    expect(Number(expires) * 1000 - now).toBeGreaterThanOrEqual(3600_000);
    expect(Number(expires) * 1000 - now).toBeLessThan(3660_000);
    expect(Number(expires) % 60).toBe(0);
    expect(signer.verify(key, expires, sig)).toEqual({ ok: true });
    now = Number(expires) * 1000;
    expect(signer.verify(key, expires, sig)).toEqual({ ok: false, why: 'expired' });
  });

  it('gives the same URL within a clock minute, so a browser cache holds', async () => {
    let now = Date.parse('2026-01-01T00:00:01Z');
    const signer = new LocalUrlSigner({ secret, expiresSeconds: 60, now: () => now });
    const a = await signer.urlFor('outputs/g/0.png');
    now += 30_000;
    expect(await signer.urlFor('outputs/g/0.png')).toBe(a);
  });

  it('refuses a URL moved to another key, a pushed-out expiry, another secret, or none', async () => {
    const signer = new LocalUrlSigner({ secret, expiresSeconds: 60 });
    const { key, expires, sig } = parts(await signer.urlFor('outputs/gen_a/0.png'));
    expect(signer.verify('outputs/gen_b/0.png', expires, sig)).toEqual({ ok: false, why: 'bad_signature' });
    expect(signer.verify(key, String(Number(expires) + 3600), sig)).toEqual({ ok: false, why: 'bad_signature' });
    expect(new LocalUrlSigner({ secret: `${secret}x`, expiresSeconds: 60 }).verify(key, expires, sig)).toEqual({
      ok: false,
      why: 'bad_signature',
    });
    expect(signer.verify(key, undefined, sig)).toEqual({ ok: false, why: 'unsigned' });
    expect(signer.verify(key, expires, undefined)).toEqual({ ok: false, why: 'unsigned' });
    expect(signer.verify(key, '1e9', sig)).toEqual({ ok: false, why: 'bad_signature' });
    expect(signer.verify(key, expires, sig.slice(1))).toEqual({ ok: false, why: 'bad_signature' });
  });

  it('refuses a short secret', () => {
    expect(() => new LocalUrlSigner({ secret: 'short', expiresSeconds: 60 })).toThrow(/at least 16 bytes/);
  });
});

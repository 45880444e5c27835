/**
 * Signed, expiring URLs for the local store's output files, so that a browser `<img>` can
 * load an image without the bearer key and a leaked URL stops working:
 *   /v1/files/<key>?expires=<unix seconds>&sig=<base64url HMAC-SHA256(secret, "<key>\n<expires>")>
 * (S3 does the same with presigned URLs.) The expiry is rounded up to a whole minute, so a
 * generation read twice within a minute gives the same URL and a browser's cache holds.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { localFileUrl, URL_SIGNING_ROUND_SECONDS as ROUND_SECONDS } from '../../shared/store/keys.js';

export interface UrlSignerOptions {
  /** The HMAC key (URL_SIGNING_SECRET, or a random one kept in DATA_DIR). */
  secret: string | Uint8Array;
  /** How long a URL stays valid (PRESIGN_EXPIRES_SECONDS); up to a minute more by rounding. */
  expiresSeconds: number;
  now?: () => number;
}

export type SignatureCheck = { ok: true } | { ok: false; why: 'unsigned' | 'expired' | 'bad_signature' };

export class LocalUrlSigner {
  private readonly secret: Buffer;
  private readonly now: () => number;

  constructor(private readonly options: UrlSignerOptions) {
    this.secret = typeof options.secret === 'string' ? Buffer.from(options.secret, 'utf8') : Buffer.from(options.secret);
    if (this.secret.length < 16) throw new RangeError('the URL signing secret must be at least 16 bytes');
    this.now = options.now ?? Date.now;
  }

  /** The signed URL of `key` (what ObjectStore.urlFor gives for S3). */
  async urlFor(key: string): Promise<string> {
    const nowSeconds = Math.floor(this.now() / 1000);
    const expires = Math.ceil((nowSeconds + this.options.expiresSeconds) / ROUND_SECONDS) * ROUND_SECONDS;
    return `${localFileUrl(key)}?expires=${expires}&sig=${this.signature(key, expires)}`;
  }

  /** Checks the `expires` and `sig` query values of a request for `key`. */
  verify(key: string, expires: string | undefined, sig: string | undefined): SignatureCheck {
    if (expires === undefined || sig === undefined) return { ok: false, why: 'unsigned' };
    if (!/^\d{1,12}$/.test(expires)) return { ok: false, why: 'bad_signature' };
    const expected = Buffer.from(this.signature(key, Number(expires)), 'utf8');
    const given = Buffer.from(sig, 'utf8');
    // Length first (it is public: always 43), then the bytes in constant time.
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, why: 'bad_signature' };
    if (Number(expires) * 1000 <= this.now()) return { ok: false, why: 'expired' };
    return { ok: true };
  }

  private signature(key: string, expires: number): string {
    return createHmac('sha256', this.secret).update(`${key}\n${expires}`).digest('base64url');
  }
}

/**
 * One webhook POST over node:http(s), with the SSRF guard at connection time: the name is
 * resolved here, every address it resolves to must be public (unless allowPrivate), and the
 * socket connects to the address that was checked, so a DNS answer cannot change between
 * the check and the connection. Redirects are not followed (a 3xx is a failed attempt).
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { isPublicAddress } from './address.js';
import { checkWebhookUrl, hostOf } from './url-policy.js';

export class BlockedAddressError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BlockedAddressError';
  }
}

export interface PostOptions {
  allowPrivate: boolean;
  timeoutMs: number;
  /** Name resolution (tests inject one); node's dns.lookup by default. */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

export interface PostResult {
  statusCode: number;
}

export async function postWebhook(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  options: PostOptions,
): Promise<PostResult> {
  const verdict = checkWebhookUrl(rawUrl, { allowPrivate: options.allowPrivate });
  if (!verdict.ok) throw new BlockedAddressError(verdict.problem);
  const url = verdict.url;
  const host = hostOf(url);
  if (isIP(host) && !options.allowPrivate && !isPublicAddress(host)) throw new BlockedAddressError(`${host} is not a public address`);
  const resolve = options.resolve ?? defaultResolve;
  const guardedLookup: LookupFunction = (hostname, lookupOptions, callback) => {
    resolve(hostname)
      .then((addresses) => {
        if (addresses.length === 0) throw new Error(`${hostname} resolves to no address`);
        const bad = addresses.find((a) => !isPublicAddress(a.address));
        if (bad && !options.allowPrivate) throw new BlockedAddressError(`${hostname} resolves to ${bad.address}, not a public address`);
        if (lookupOptions.all) callback(null, addresses);
        else callback(null, addresses[0]!.address, addresses[0]!.family);
      })
      .catch((err: Error) => callback(err as NodeJS.ErrnoException, '', 0));
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostResult>((resolvePromise, reject) => {
    const req = send(
      url,
      {
        method: 'POST',
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'unified-model-webhooks/1',
        },
        lookup: guardedLookup,
        timeout: options.timeoutMs,
        // A fresh connection per delivery: a pooled socket would skip the address check.
        agent: false,
      },
      (res: IncomingMessage) => {
        res.resume(); // the body is not read: only the status counts
        res.on('end', () => resolvePromise({ statusCode: res.statusCode ?? 0 }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no response within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

function defaultResolve(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))),
  );
}

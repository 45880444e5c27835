/**
 * API Gateway HTTP API events (payload format 2.0), as the stack's $default route hands them
 * to the edge function: lower-case headers, the raw path and query, the body as a string
 * (base64 when binary), and the request context Hono's adapter reads.
 */
import { randomUUID } from 'node:crypto';

export interface HttpApiEvent {
  version: '2.0';
  routeKey: '$default';
  rawPath: string;
  rawQueryString: string;
  headers: Record<string, string>;
  queryStringParameters?: Record<string, string>;
  requestContext: {
    accountId: string;
    apiId: string;
    domainName: string;
    domainPrefix: string;
    http: { method: string; path: string; protocol: string; sourceIp: string; userAgent: string };
    requestId: string;
    routeKey: '$default';
    stage: '$default';
    time: string;
    timeEpoch: number;
  };
  body?: string;
  isBase64Encoded: boolean;
}

/** The function's answer to an HTTP API event (Hono's adapter, payload 2.0). */
export interface HttpApiResult {
  statusCode: number;
  headers?: Record<string, string>;
  body: string;
  isBase64Encoded: boolean;
}

const DOMAIN = 'abc123.execute-api.us-east-1.amazonaws.com';

export function httpApiEvent(
  method: string,
  target: string,
  options: { headers?: Record<string, string>; json?: unknown } = {},
): HttpApiEvent {
  const url = new URL(target, `https://${DOMAIN}`);
  const headers: Record<string, string> = {
    host: DOMAIN,
    'user-agent': 'rie-test',
    'x-forwarded-proto': 'https',
    ...lower(options.headers ?? {}),
  };
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  if (body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const query = Object.fromEntries(url.searchParams);
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: url.pathname,
    rawQueryString: url.searchParams.toString(),
    headers,
    ...(Object.keys(query).length > 0 ? { queryStringParameters: query } : {}),
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: DOMAIN,
      domainPrefix: 'abc123',
      http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: '192.0.2.10', userAgent: 'rie-test' },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body !== undefined ? { body } : {}),
    isBase64Encoded: false,
  };
}

function lower(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));
}

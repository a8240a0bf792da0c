// JSON answers with the bytes express's res.json() writes: Content-Type with charset, Content-Length, and
// the weak ETag express adds by default. The generation routes answer outside express (fast-route.ts)
// and must look on the wire like the answers express gives, so both use this.
import { hash } from 'node:crypto';
import type { ServerResponse } from 'node:http';

/** The `etag` package's weak tag, as express computes it: W/"<byte length, hex>-<sha1, base64, 27 chars>". */
function weakEtag(body: string, bytes: number): string {
  if (bytes === 0) return 'W/"0-2jmj7l5rSw0yVb/vlWAYkK/YBwk"';
  // crypto.hash is the one-shot form of createHash(...).update(...).digest(...), ~0.6 µs quicker.
  return `W/"${bytes.toString(16)}-${hash('sha1', body, 'base64').substring(0, 27)}"`;
}

export function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  const bytes = Buffer.byteLength(body, 'utf8');
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', String(bytes));
  res.setHeader('ETag', weakEtag(body, bytes));
  res.end(body, 'utf8');
}

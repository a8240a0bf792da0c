// Small HTTP helpers of the upstream layer: URLs split for undici, JSON answers and error bodies read.
import type { Readable } from 'node:stream';
import { UpstreamError } from './types.js';

/**
 * A URL as undici's dispatch takes it: the origin (scheme://host[:port], as written) and the path
 * ('/' when there is none).
 */
export function splitUrl(url: string): { origin: string; path: string } {
  const at = url.indexOf('/', url.indexOf('//') + 2);
  return at < 0 ? { origin: url, path: '/' } : { origin: url.slice(0, at), path: url.slice(at) };
}

/** A body parsed as JSON, or its text when it is not JSON (the caller decides whether that is a fault). */
export function parseJsonOrText(body: Buffer): unknown {
  let text = body.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte order mark
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const ERROR_BODY_LIMIT_BYTES = 64 * 1024;

/** Read an error body (capped at 64 KiB) and parse it as JSON when it is JSON. */
export async function readSmallBody(stream: Readable): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > ERROR_BODY_LIMIT_BYTES) break;
    chunks.push(chunk);
  }
  return parseJsonOrText(Buffer.concat(chunks));
}

/** A base URL fit for logs and metrics: no user:password, no trailing slash. */
export function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/+$/, '');
}

/**
 * The JSON text of a request body. A body JSON.stringify cannot handle (nested thousands deep, say) is the
 * request's fault: a 400 in vLLM's error shape, like the one a replica would send, rather than a synchronous throw.
 */
export function serializeBody(body: Record<string, unknown>, tierName: string): string | UpstreamError {
  try {
    return JSON.stringify(body);
  } catch (err) {
    const message = `request body cannot be forwarded: ${(err as Error).message}`;
    const vllmShaped = { object: 'error', message, type: 'BadRequestError', param: null, code: 400 };
    return new UpstreamError('status_4xx', `tier ${tierName}: ${message}`, tierName, 400, vllmShaped, 0);
  }
}

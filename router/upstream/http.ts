// The one axios instance of a tier client (created once, shared by every call) and small HTTP helpers.
import type { Readable } from 'node:stream';
import axios, { type AxiosInstance } from 'axios';
import type { KeepAliveAgents } from './agents.js';

export function createUpstreamAxios(agents: KeepAliveAgents, requestTimeoutMs: number): AxiosInstance {
  return axios.create({
    adapter: 'http',
    httpAgent: agents.http,
    httpsAgent: agents.https,
    // Native transport (no follow-redirects) and no proxy lookup per call.
    maxRedirects: 0,
    proxy: false,
    // Statuses are judged by the caller (4xx passed on, 5xx retried), never thrown by axios.
    validateStatus: () => true,
    // Wall time until the response headers, then the longest silence while the body arrives.
    timeout: requestTimeoutMs,
    // Bodies are serialized once per call (not per retry) and sent as is.
    transformRequest: [(data: unknown) => data],
    // Parse JSON answers; a body that is not JSON stays a string instead of throwing.
    // clarifyTimeoutError: a timeout is ETIMEDOUT, told apart from a caller's abort (ERR_CANCELED).
    transitional: { silentJSONParsing: true, forcedJSONParsing: true, clarifyTimeoutError: true },
    headers: { 'Content-Type': 'application/json' },
  });
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
  const text = Buffer.concat(chunks).toString('utf8');
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A base URL fit for logs and metrics: no user:password, no trailing slash. */
export function withoutCredentials(url: string): string {
  const u = new URL(url);
  u.username = '';
  u.password = '';
  return u.toString().replace(/\/+$/, '');
}

// The one axios instance of a tier client (created once, shared by every call) and small HTTP helpers.
import type { Readable } from 'node:stream';
import axios, { type AxiosError, type AxiosInstance } from 'axios';
import type { KeepAliveAgents } from './agents.js';
import { createUndiciAdapter } from './undici-adapter.js';

export interface UpstreamAxiosOptions {
  /** Time until the response headers, then the longest silence while the body arrives. */
  requestTimeoutMs: number;
  /** Longest silence between chunks of a streamed (responseType 'stream') body. */
  streamIdleTimeoutMs: number;
  /** The error a streamed body that fails is destroyed with. */
  mapStreamError?: (err: AxiosError) => Error;
}

export function createUpstreamAxios(agents: KeepAliveAgents, opts: UpstreamAxiosOptions): AxiosInstance {
  return axios.create({
    // The transport is undici (keep-alive pools per replica), behind axios's documented adapter option.
    adapter: createUndiciAdapter({
      dispatcher: () => agents.dispatcher,
      streamIdleTimeoutMs: opts.streamIdleTimeoutMs,
      ...(opts.mapStreamError ? { mapStreamError: opts.mapStreamError } : {}),
    }),
    // Redirects are never followed and no proxy is used.
    maxRedirects: 0,
    proxy: false,
    // Statuses are judged by the caller (4xx passed on, 5xx retried), never thrown by axios.
    validateStatus: () => true,
    // Time from sending the request to its response headers, then the same limit on any silence while
    // the body arrives (undici's headersTimeout and bodyTimeout; their timer wheel fires up to ~1 s late).
    timeout: opts.requestTimeoutMs,
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

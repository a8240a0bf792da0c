// Turning what one attempt produced (a status or an error) into a failure kind, and whether the
// replica is to blame (and so is ejected).
import type { UpstreamFailureKind } from './types.js';
import { UpstreamError } from './types.js';
import { UpstreamCallCode } from './upstream-call.js';

export interface AttemptFailure {
  kind: UpstreamFailureKind;
  /** Short description for the error message; never contains request bodies or headers. */
  detail: string;
  status?: number;
  body?: unknown;
  /** The replica misbehaved (connect error, timeout, 5xx): eject it for a cooldown. */
  eject: boolean;
}

/** Kinds worth another replica of the same tier. */
export function isRetryable(kind: UpstreamFailureKind): boolean {
  return kind === 'connect' || kind === 'timeout' || kind === 'status_5xx';
}

/**
 * A response with a status. 4xx is the request's fault (passed on, never retried); anything else
 * that is not 2xx (5xx, and redirects or 1xx a vLLM server never sends) counts as a replica fault.
 */
export function failureFromStatus(status: number, body: unknown): AttemptFailure | undefined {
  if (status >= 200 && status < 300) return undefined;
  if (status >= 400 && status < 500) return { kind: 'status_4xx', detail: `HTTP ${status}`, status, body, eject: false };
  return { kind: 'status_5xx', detail: `HTTP ${status}`, status, body, eject: true };
}

/** Like failureFromStatus, but a 2xx body that did not parse as JSON (it stays a string, see parseJsonOrText) is a fault too. */
export function failureFromJsonResponse(status: number, body: unknown): AttemptFailure | undefined {
  const byStatus = failureFromStatus(status, body);
  if (byStatus || typeof body !== 'string') return byStatus;
  return { kind: 'status_5xx', detail: `HTTP ${status} with a body that is not JSON`, status, eject: true };
}

export const CALLER_ABORTED: AttemptFailure = { kind: 'aborted', detail: 'aborted by the caller', eject: false };

/**
 * An error from upstreamCall (an UpstreamCallError) or emitted by a response stream.
 * @param callerAborted the caller's AbortSignal fired
 * @param timeoutSeconds the limit that applied, for the message
 */
export function failureFromError(err: unknown, callerAborted: boolean, timeoutSeconds: number): AttemptFailure {
  if (callerAborted) return CALLER_ABORTED;
  if (err instanceof UpstreamError) return { kind: err.kind, detail: err.message, eject: err.kind === 'timeout' };
  const e = (err ?? {}) as { code?: string; message?: string; reusedSocket?: boolean };
  if (e.code === UpstreamCallCode.HeadersTimeout || e.code === UpstreamCallCode.BodyTimeout) {
    return { kind: 'timeout', detail: `no response within ${timeoutSeconds}s`, eject: true };
  }
  // The consumer destroyed the stream we handed over (its client went away): nobody's fault.
  if (e.code === 'ERR_STREAM_PREMATURE_CLOSE' || e.code === UpstreamCallCode.Aborted || e.code === UpstreamCallCode.StreamDestroyed) {
    return CALLER_ABORTED;
  }
  // A reset or close on a reused keep-alive connection before any response is usually the server
  // closing an idle connection just as we wrote to it: worth a retry, but no reason to eject the
  // replica. (upstreamCall sets reusedSocket when the connection had carried a response before.)
  const staleSocket = (e.code === 'ECONNRESET' || e.code === 'UND_ERR_SOCKET' || e.code === 'EPIPE') && e.reusedSocket === true;
  const message = e.message ?? String(err);
  return { kind: 'connect', detail: e.code && !message.includes(e.code) ? `${e.code} ${message}` : message, eject: !staleSocket };
}

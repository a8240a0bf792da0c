// The contract between the router's request handling and the vLLM replicas of one tier.
import type { Readable } from 'node:stream';

export type UpstreamPath = '/v1/completions' | '/v1/chat/completions';

export type UpstreamFailureKind =
  /** connection refused/reset, DNS, socket hang-up before a response */
  | 'connect'
  /** no response (or no complete response) within the tier's requestSeconds */
  | 'timeout'
  /** the replica answered 5xx */
  | 'status_5xx'
  /** the replica answered 4xx: the request itself is at fault; not retried, passed to the client */
  | 'status_4xx'
  /** the tier has no endpoints configured */
  | 'no_replica'
  /** the caller aborted (client went away) */
  | 'aborted';

export class UpstreamError extends Error {
  /** GPU-seconds the failed attempts were attributed (a replica may have worked before failing). */
  gpuSeconds = 0;

  constructor(
    readonly kind: UpstreamFailureKind,
    message: string,
    readonly tier: string,
    /** HTTP status from the replica, for status_* kinds. */
    readonly status?: number,
    /** Parsed error body from the replica, for status_* kinds (passed through to the client on 4xx). */
    readonly body?: unknown,
    /** Replicas tried before giving up. */
    readonly attempts = 0,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }

  /** True when another tier may succeed where this one failed (connect, timeout, 5xx, no replica). */
  get canFallBack(): boolean {
    return this.kind === 'connect' || this.kind === 'timeout' || this.kind === 'status_5xx' || this.kind === 'no_replica';
  }
}

/**
 * What the router needs of a cancellation signal: an AbortSignal fits, and so does the router's own ClientGone
 * (router/server/client-gone.ts), which the request path uses instead of an AbortController per request (why:
 * client-gone.ts).
 */
export interface CancelSignal {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: CancelListener, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: CancelListener): void;
}

/** A function, or an object whose handleEvent is called (as with EventTarget). */
export type CancelListener = { handleEvent(event?: unknown): void } | (() => void);

export interface CallOptions {
  /** Aborts the upstream request when the client disconnects. */
  signal?: CancelSignal;
  /** Label for metrics: an answer call or a verification call. */
  purpose: 'answer' | 'verify' | 'passthrough';
}

export interface UpstreamJsonResult<T = unknown> {
  status: number;
  body: T;
  /** Base URL of the replica that answered. */
  replica: string;
  /** Wall time of the successful attempt. */
  seconds: number;
  /** GPU-seconds attributed to this call: service time x GPUs / requests sharing the replica. */
  gpuSeconds: number;
  /** Replicas tried, the successful one included. */
  attempts: number;
}

export interface UpstreamStreamResult {
  status: number;
  /** Raw response bytes (SSE for stream=true) as the replica sends them. */
  stream: Readable;
  replica: string;
  attempts: number;
  /** Resolves when the stream ends (or fails), with the time and GPU-seconds of the call. */
  finished: Promise<{ seconds: number; gpuSeconds: number; error?: Error }>;
}

/** Observations the client reports, for Prometheus metrics kept elsewhere. */
export interface UpstreamHooks {
  /** In-flight requests on this tier changed (after each start and end). */
  onInFlight?(tier: string, inFlight: number): void;
  /** One attempt against one replica ended. */
  onAttempt?(event: { tier: string; replica: string; purpose: CallOptions['purpose']; seconds: number; outcome: 'ok' | UpstreamFailureKind }): void;
}

/** All replicas of one tier behind one object: picks, retries and meters. */
export interface TierClient {
  readonly tierName: string;
  /** POST JSON (stream must be false) and parse the JSON answer; retries other replicas on connect/timeout/5xx. */
  postJson<T = unknown>(path: UpstreamPath, body: Record<string, unknown>, opts: CallOptions): Promise<UpstreamJsonResult<T>>;
  /** POST and hand back the response body as a stream; retries only before the response status arrives. */
  postStream(path: UpstreamPath, body: Record<string, unknown>, opts: CallOptions): Promise<UpstreamStreamResult>;
  /** Requests in flight across the tier's replicas. */
  inFlight(): number;
  /** Replicas currently considered ready (healthy). */
  readyReplicas(): number;
  /** Stop health checks and close idle connections; call once nothing is in flight. */
  close(): void;
}

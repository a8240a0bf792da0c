// One tier's vLLM replicas behind one object: least-loaded selection, retries on other replicas,
// passive ejection plus active health checks, in-flight and GPU-seconds metering.
//
// Timeouts per attempt:
// - connect: tier.timeouts.connectSeconds for setting up a new connection (armed per connection in
//   agents.ts).
// - postJson: requestSeconds until the response headers, then the same limit on any silence while
//   the body arrives. vLLM sends a non-streamed answer only once it is complete, so the headers mark
//   nearly the whole request.
// - postStream: requestSeconds until the response headers; after that, an idle timeout between
//   chunks (streamIdleSeconds, default requestSeconds), because a long generation may legitimately
//   stream for longer than any fixed limit. An error status's small body is read under the idle
//   timeout too.
// Each attempt is one upstreamCall (upstream-call.ts) on the tier's undici pools (agents.ts): undici's
// per-request headers and body timers carry these limits (counted from the moment the request is
// written to a connection; they run on undici's timer wheel and fire up to about a second late, fine
// for limits in seconds). The caller's AbortSignal goes straight to upstreamCall: no timers or
// AbortControllers of our own per call. JSON answers are parsed here; a 2xx body that is not JSON
// counts as a replica fault.
//
// GPU-seconds reported for a call (result, stream `finished`, UpstreamError.gpuSeconds) cover all its
// attempts, failed ones included: a replica that timed out still spent its GPUs on the request.
// onAttempt reports a streamed attempt when its body ends, so its seconds cover the whole stream.
import { performance } from 'node:perf_hooks';
import { finished as streamFinished, type Readable } from 'node:stream';

import type { RetryConfig, TierConfig } from '../config/schema.js';
import { ReplicaGpuMeter, type MeterToken } from '../cost/gpu-meter.js';
import { createKeepAliveAgents, type KeepAliveAgents } from './agents.js';
import {
  CALLER_ABORTED,
  failureFromError,
  failureFromJsonResponse,
  failureFromStatus,
  isRetryable,
  type AttemptFailure,
} from './failures.js';
import { parseJsonOrText, readSmallBody, serializeBody, splitUrl, withoutCredentials } from './http.js';
import { DEFAULT_HEALTH_CHECK, startHealthChecks, type HealthChecker, type HealthCheckOptions } from './health.js';
import { DEFAULT_EJECTION, ReplicaSet, type EjectionPolicy } from './replica-set.js';
import { UpstreamCallCode, upstreamCall, type UpstreamCallError, type UpstreamRequest, type UpstreamResponse } from './upstream-call.js';
import {
  UpstreamError,
  type CallOptions,
  type CancelSignal,
  type TierClient,
  type UpstreamHooks,
  type UpstreamJsonResult,
  type UpstreamPath,
  type UpstreamStreamResult,
} from './types.js';

/** The subset of a pino logger this module uses; only state changes are logged, never bodies or headers. */
export interface UpstreamLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface TierClientOptions {
  hooks?: UpstreamHooks;
  /** Monotonic clock in milliseconds (default performance.now). */
  now?: () => number;
  /** Active health checks (default every 5 s on /health); false: none, replicas start ready. */
  healthCheck?: HealthCheckOptions | false;
  logger?: UpstreamLogger;
  /** Passive ejection cooldown (default 1 s doubling up to 30 s). */
  ejection?: EjectionPolicy;
  /** Longest silence between chunks of a streamed response (default tier.timeouts.requestSeconds). */
  streamIdleSeconds?: number;
  /** Connection pool size per replica (default 1024). */
  maxSocketsPerReplica?: number;
}

export interface ReplicaSnapshot {
  replica: string;
  ready: boolean;
  healthy: boolean;
  inFlight: number;
  /** Seconds of passive ejection left (0 when not ejected). */
  ejectedForSeconds: number;
  /** GPU-seconds attributed to calls on this replica so far. */
  gpuSeconds: number;
}

/** TierClient plus a per-replica view for status pages and tests. */
export interface InspectableTierClient extends TierClient {
  replicaStatus(): ReplicaSnapshot[];
}

export function createTierClient(tier: TierConfig, retry: RetryConfig, options: TierClientOptions = {}): InspectableTierClient {
  return new UndiciTierClient(tier, retry, options);
}

interface Replica {
  /** For logs, hooks and results: the base URL without any user:password. */
  label: string;
  /** The base URL split for undici: its origin, and the path every request path goes under ('' for none). */
  origin: string;
  pathPrefix: string;
  meter: ReplicaGpuMeter;
}

/** One attempt against one replica, from dispatch to its end (for streams: the end of the body). */
interface Attempt {
  index: number;
  startedAt: number;
  meterToken: MeterToken;
}

const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': 'application/json' });

/** A failed attempt, told apart from a result by instanceof. */
class FailedAttempt {
  constructor(
    readonly failure: AttemptFailure,
    readonly gpuSeconds: number,
  ) {}
}

class UndiciTierClient implements InspectableTierClient {
  readonly tierName: string;
  private readonly set: ReplicaSet;
  private readonly replicas: Replica[];
  private readonly agents: KeepAliveAgents;
  private readonly health: HealthChecker | undefined;
  private readonly now: () => number;
  private readonly hooks: UpstreamHooks;
  private readonly logger: UpstreamLogger | undefined;
  private readonly maxAttempts: number;
  private readonly requestMs: number;
  private readonly streamIdleMs: number;
  /** A streamed body that goes silent fails with the tier's timeout, whoever reads it. */
  private readonly streamTimeoutError: (err: UpstreamCallError) => Error;
  private tierInFlight = 0;

  constructor(tier: TierConfig, retry: RetryConfig, options: TierClientOptions) {
    this.tierName = tier.name;
    this.now = options.now ?? (() => performance.now());
    this.hooks = options.hooks ?? {};
    this.logger = options.logger;
    this.maxAttempts = Math.max(1, retry.attemptsPerTier);
    this.requestMs = tier.timeouts.requestSeconds * 1000;
    this.streamIdleMs = (options.streamIdleSeconds ?? tier.timeouts.requestSeconds) * 1000;

    const bases = tier.endpoints.map((e) => e.replace(/\/+$/, ''));
    this.replicas = bases.map((base) => {
      const { origin, path } = splitUrl(base);
      const pathPrefix = path === '/' ? '' : path;
      return {
        label: withoutCredentials(base),
        origin,
        pathPrefix,
        meter: new ReplicaGpuMeter(tier.gpusPerReplica, () => this.now() / 1000),
      };
    });
    const healthCheck = options.healthCheck === undefined ? DEFAULT_HEALTH_CHECK : options.healthCheck;
    this.set = new ReplicaSet(bases, healthCheck === false, options.ejection ?? DEFAULT_EJECTION);

    this.agents = createKeepAliveAgents({
      connectTimeoutMs: tier.timeouts.connectSeconds * 1000,
      maxSocketsPerReplica: options.maxSocketsPerReplica ?? 1024,
    });
    this.streamTimeoutError = (err) =>
      err.code === UpstreamCallCode.BodyTimeout ? new UpstreamError('timeout', `no data for ${this.streamIdleMs / 1000}s while streaming`, this.tierName) : err;

    this.health =
      healthCheck === false || bases.length === 0
        ? undefined
        : startHealthChecks({
            agents: this.agents,
            baseUrls: bases,
            options: healthCheck,
            timeoutMs: Math.max(tier.timeouts.connectSeconds, 1) * 1000,
            onResult: (index, ok) => this.onHealthResult(index, ok),
          });
  }

  postJson<T = unknown>(path: UpstreamPath, body: Record<string, unknown>, opts: CallOptions): Promise<UpstreamJsonResult<T>> {
    if (body.stream === true) return Promise.reject(new TypeError('postJson needs stream: false; use postStream for streamed answers'));
    const payload = serializeBody(body, this.tierName);
    if (payload instanceof UpstreamError) return Promise.reject(payload);
    return this.callWithRetries(opts, (index, attemptNo, spent) => this.jsonAttempt<T>(index, attemptNo, spent, path, payload, opts));
  }

  postStream(path: UpstreamPath, body: Record<string, unknown>, opts: CallOptions): Promise<UpstreamStreamResult> {
    const payload = serializeBody(body, this.tierName);
    if (payload instanceof UpstreamError) return Promise.reject(payload);
    return this.callWithRetries(opts, (index, attemptNo, spent) => this.streamAttempt(index, attemptNo, spent, path, payload, opts));
  }

  inFlight(): number {
    return this.tierInFlight;
  }

  readyReplicas(): number {
    return this.set.readyCount(this.now());
  }

  replicaStatus(): ReplicaSnapshot[] {
    const now = this.now();
    return this.set.replicas.map((r, i) => ({
      replica: this.replicas[i]!.label,
      ready: this.set.isReady(i, now),
      healthy: r.healthy,
      inFlight: r.inFlight,
      ejectedForSeconds: Math.max(0, r.ejectedUntil - now) / 1000,
      gpuSeconds: this.replicas[i]!.meter.attributedGpuSeconds,
    }));
  }

  close(): void {
    this.health?.stop();
    this.agents.destroyIdleSockets();
  }

  private async callWithRetries<R>(
    opts: CallOptions,
    attemptOnce: (index: number, attemptNo: number, spentGpuSeconds: number) => Promise<R | FailedAttempt>,
  ): Promise<R> {
    if (this.replicas.length === 0) {
      throw new UpstreamError('no_replica', `tier ${this.tierName} has no endpoints`, this.tierName);
    }
    const tried: number[] = [];
    let spent = 0;
    let last: AttemptFailure = CALLER_ABORTED;
    while (tried.length < this.maxAttempts) {
      if (opts.signal?.aborted) throw this.toError(CALLER_ABORTED, tried.length, spent);
      const index = this.set.pick(this.now(), tried);
      tried.push(index);
      const outcome = await attemptOnce(index, tried.length, spent);
      if (!(outcome instanceof FailedAttempt)) return outcome;
      spent += outcome.gpuSeconds;
      last = outcome.failure;
      if (!isRetryable(last.kind)) break;
    }
    throw this.toError(last, tried.length, spent);
  }

  private async jsonAttempt<T>(
    index: number,
    attemptNo: number,
    spent: number,
    path: UpstreamPath,
    payload: string,
    opts: CallOptions,
  ): Promise<UpstreamJsonResult<T> | FailedAttempt> {
    const attempt = this.beginAttempt(index);
    let status = 0;
    let answer: unknown;
    let failure: AttemptFailure | undefined;
    try {
      const res = await upstreamCall(this.agents.dispatcher, this.requestOf(index, path, payload, opts.signal, false));
      status = res.status;
      answer = parseJsonOrText(res.body);
      failure = failureFromJsonResponse(status, answer);
    } catch (err) {
      failure = failureFromError(err, opts.signal?.aborted === true, this.requestMs / 1000);
    }
    const cost = this.endAttempt(attempt, opts.purpose, failure);
    if (failure) return new FailedAttempt(this.onReplica(index, failure), cost.gpuSeconds);
    return {
      status,
      body: answer as T,
      replica: this.replicas[index]!.label,
      seconds: cost.seconds,
      gpuSeconds: spent + cost.gpuSeconds,
      attempts: attemptNo,
    };
  }

  private async streamAttempt(
    index: number,
    attemptNo: number,
    spent: number,
    path: UpstreamPath,
    payload: string,
    opts: CallOptions,
  ): Promise<UpstreamStreamResult | FailedAttempt> {
    const attempt = this.beginAttempt(index);
    let failure: AttemptFailure | undefined;
    try {
      const res = await upstreamCall(this.agents.dispatcher, this.requestOf(index, path, payload, opts.signal, true));
      if (res.status >= 200 && res.status < 300) return this.handOverStream(attempt, res, opts, attemptNo, spent);
      // Error statuses carry a small JSON body (vLLM's error object).
      failure = failureFromStatus(res.status, await readSmallBody(res.body));
    } catch (err) {
      failure = failureFromError(err, opts.signal?.aborted === true, this.requestMs / 1000);
    }
    const cost = this.endAttempt(attempt, opts.purpose, failure);
    return new FailedAttempt(this.onReplica(index, failure ?? CALLER_ABORTED), cost.gpuSeconds);
  }

  /** Headers arrived with 2xx: hand the body over and meter the attempt until the body ends. */
  private handOverStream(
    attempt: Attempt,
    res: UpstreamResponse<Readable>,
    opts: CallOptions,
    attemptNo: number,
    spent: number,
  ): UpstreamStreamResult {
    const stream = res.body;
    const finished = new Promise<{ seconds: number; gpuSeconds: number; error?: Error }>((resolve) => {
      // finished() also keeps an 'error' listener on the stream, so a late error never goes unhandled.
      streamFinished(stream, (err) => {
        const failure = err ? failureFromError(err, opts.signal?.aborted === true, this.streamIdleMs / 1000) : undefined;
        const cost = this.endAttempt(attempt, opts.purpose, failure);
        const gpuSeconds = spent + cost.gpuSeconds;
        if (!failure) return resolve({ seconds: cost.seconds, gpuSeconds });
        resolve({ seconds: cost.seconds, gpuSeconds, error: this.toError(this.onReplica(attempt.index, failure), attemptNo, gpuSeconds) });
      });
    });
    return { status: res.status, stream, replica: this.replicas[attempt.index]!.label, attempts: attemptNo, finished };
  }

  private beginAttempt(index: number): Attempt {
    const attempt: Attempt = { index, startedAt: this.now(), meterToken: this.replicas[index]!.meter.start() };
    this.set.started(index);
    this.tierInFlight++;
    this.hooks.onInFlight?.(this.tierName, this.tierInFlight);
    return attempt;
  }

  private endAttempt(attempt: Attempt, purpose: CallOptions['purpose'], failure: AttemptFailure | undefined): { seconds: number; gpuSeconds: number } {
    const { index } = attempt;
    const now = this.now();
    this.set.ended(index);
    this.tierInFlight--;
    this.hooks.onInFlight?.(this.tierName, this.tierInFlight);
    const replica = this.replicas[index]!;
    const gpuSeconds = replica.meter.end(attempt.meterToken);
    const seconds = (now - attempt.startedAt) / 1000;
    if (!failure || failure.kind === 'status_4xx') {
      this.set.recordSuccess(index);
    } else if (failure.eject && this.set.recordFailure(index, now)) {
      const cooldownSeconds = (this.set.replicas[index]!.ejectedUntil - now) / 1000;
      this.logger?.warn({ tier: this.tierName, replica: replica.label, kind: failure.kind, cooldownSeconds }, 'replica ejected after a failed call');
    }
    this.hooks.onAttempt?.({ tier: this.tierName, replica: replica.label, purpose, seconds, outcome: failure ? failure.kind : 'ok' });
    return { seconds, gpuSeconds };
  }

  private onHealthResult(index: number, ok: boolean): void {
    if (!this.set.recordHealth(index, ok, this.now())) return;
    const fields = { tier: this.tierName, replica: this.replicas[index]!.label };
    if (ok) this.logger?.info(fields, 'replica ready');
    else this.logger?.warn(fields, 'replica failed its health check');
  }

  /** One attempt's POST: a streamed body has the idle limit between chunks, and fails with the tier's timeout. */
  private requestOf<Stream extends boolean>(
    index: number,
    path: string,
    payload: string,
    signal: CancelSignal | undefined,
    stream: Stream,
  ): UpstreamRequest & { stream: Stream } {
    const replica = this.replicas[index]!;
    return {
      origin: replica.origin,
      path: replica.pathPrefix + path,
      method: 'POST',
      headers: JSON_HEADERS,
      body: payload,
      headersTimeoutMs: this.requestMs,
      bodyTimeoutMs: stream ? this.streamIdleMs : this.requestMs,
      signal,
      stream,
      mapStreamError: stream ? this.streamTimeoutError : undefined,
    };
  }

  /** Name the replica in the failure's description. */
  private onReplica(index: number, failure: AttemptFailure): AttemptFailure {
    return { ...failure, detail: `${this.replicas[index]!.label}: ${failure.detail}` };
  }

  private toError(failure: AttemptFailure, attempts: number, gpuSeconds: number): UpstreamError {
    const prefix = attempts > 1 ? `tier ${this.tierName}: ${attempts} attempts failed; last: ` : `tier ${this.tierName}: `;
    const error = new UpstreamError(failure.kind, prefix + failure.detail, this.tierName, failure.status, failure.body, attempts);
    error.gpuSeconds = gpuSeconds;
    return error;
  }
}

// One HTTP request to a replica over an undici dispatcher (the keep-alive pools of agents.ts), with no
// client library in between: the router makes a few kinds of calls and needs none of a library's
// per-call configuration merging, header objects or transforms.
//
// upstreamCall resolves as soon as the response headers are in, whatever the status (the caller
// judges it; 1xx responses are skipped), with the body:
// - stream: false: all of it as one Buffer, gzip/deflate/br decoded (no Accept-Encoding is sent, so a
//   conforming server never compresses);
// - stream: true: a Node Readable handed over with backpressure (undici's parser pauses while the
//   reader is behind); a reader that destroys it early aborts the request.
// Limits: headersTimeoutMs until the response headers, then bodyTimeoutMs as the longest silence
// between body chunks (undici's headersTimeout and bodyTimeout: they count from the moment the
// request is written to a connection and run on undici's timer wheel, firing up to about 1 s late).
// The caller's AbortSignal rejects at once and aborts the request on its connection, or, if it is
// still queued for one, as soon as it gets one.
//
// Per call this allocates the handler (dispatch handler, abort listener and, once the headers are in,
// the response itself: one object), its promise and undici's dispatch options; no timers or
// AbortControllers of its own.
import type { IncomingHttpHeaders } from 'node:http';
import { Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import type { Dispatcher } from 'undici';
import type { CancelSignal } from './types.js';

/** Codes of the failures upstreamCall names itself; transport failures keep their own code (ECONNREFUSED, UND_ERR_SOCKET, ...). */
export const UpstreamCallCode = {
  /** No response headers within headersTimeoutMs. */
  HeadersTimeout: 'UPSTREAM_HEADERS_TIMEOUT',
  /** A silence in the body longer than bodyTimeoutMs. */
  BodyTimeout: 'UPSTREAM_BODY_TIMEOUT',
  /** The caller's AbortSignal fired (or undici aborted the request). */
  Aborted: 'UPSTREAM_ABORTED',
  /** The reader destroyed a streamed body before its end (the reason the request is aborted with). */
  StreamDestroyed: 'UPSTREAM_STREAM_DESTROYED',
  /** A compressed body that does not decode. */
  BadEncoding: 'UPSTREAM_BAD_ENCODING',
  /** A transport error that came without a code. */
  Transport: 'UPSTREAM_ERROR',
} as const;

export class UpstreamCallError extends Error {
  constructor(
    message: string,
    readonly code: string,
    /**
     * The connection closed under the request before any response, after it had carried an earlier
     * one: most likely a keep-alive connection the server was closing as the request was written.
     */
    readonly reusedSocket = false,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'UpstreamCallError';
  }
}

export interface UpstreamRequest {
  /** scheme://host[:port], without a path. */
  origin: string;
  /** Starts with '/'. */
  path: string;
  method: 'GET' | 'POST';
  headers?: Readonly<Record<string, string>> | undefined;
  body?: string | Uint8Array | null | undefined;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  signal?: CancelSignal | undefined;
  stream: boolean;
  /** For stream: true, the error a failing body is destroyed with (default: the UpstreamCallError itself). */
  mapStreamError?: ((err: UpstreamCallError) => Error) | undefined;
}

export interface UpstreamResponse<Body extends Buffer | Readable> {
  status: number;
  headers: IncomingHttpHeaders;
  body: Body;
}

export function upstreamCall(dispatcher: Dispatcher, request: UpstreamRequest & { stream: true }): Promise<UpstreamResponse<Readable>>;
export function upstreamCall(dispatcher: Dispatcher, request: UpstreamRequest & { stream: false }): Promise<UpstreamResponse<Buffer>>;
export function upstreamCall(dispatcher: Dispatcher, request: UpstreamRequest): Promise<UpstreamResponse<Buffer | Readable>> {
  return new Promise((resolve, reject) => new UpstreamCall(request, resolve, reject).start(dispatcher));
}

const ONCE = Object.freeze({ once: true });
const NO_HEADERS: IncomingHttpHeaders = Object.freeze({}) as IncomingHttpHeaders;
const EMPTY_BODY = Buffer.alloc(0);
const ignore = (): void => {};

/** One request: undici's dispatch handler, the listener of the caller's signal, and the response it resolves with. */
class UpstreamCall implements Dispatcher.DispatchHandler, UpstreamResponse<Buffer | Readable> {
  status = 0;
  headers: IncomingHttpHeaders = NO_HEADERS;
  body: Buffer | Readable = EMPTY_BODY;

  private controller: Dispatcher.DispatchController | null = null;
  private chunks: Buffer[] = [];
  private size = 0;
  /** The raw body of a streamed response (before any decoder). */
  private stream: ResponseBody | null = null;
  /** The promise is settled (resolved at the headers for streams). */
  private settled = false;
  /** The request is over on undici's side (complete, failed or aborted). */
  private done = false;
  private abortReason: UpstreamCallError | null = null;

  constructor(
    private readonly request: UpstreamRequest,
    private readonly resolve: (res: UpstreamResponse<Buffer | Readable>) => void,
    private readonly reject: (err: UpstreamCallError) => void,
  ) {}

  start(dispatcher: Dispatcher): void {
    const { request } = this;
    const signal = request.signal;
    if (signal) {
      if (signal.aborted) return this.fail(abortedByCaller());
      signal.addEventListener('abort', this, ONCE);
    }
    try {
      dispatcher.dispatch(
        {
          origin: request.origin,
          path: request.path,
          method: request.method,
          headers: request.headers ?? null,
          body: request.body ?? null,
          headersTimeout: request.headersTimeoutMs,
          bodyTimeout: request.bodyTimeoutMs,
        },
        this,
      );
    } catch (err) {
      this.fail(this.toCallError(err));
    }
  }

  /** The caller's AbortSignal fired (EventListener interface, so the listener is this object). */
  handleEvent(): void {
    const reason = abortedByCaller();
    this.abortReason = reason;
    this.controller?.abort(reason);
    // Not on a connection yet (queued, or connecting): reject now; onRequestStart aborts it later.
    this.fail(reason);
    if (this.stream && !this.stream.destroyed) this.stream.destroy(this.streamError(reason));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    if (statusCode < 200) return; // 1xx informational
    this.status = statusCode;
    this.headers = headers;
    if (!this.request.stream) return;
    const raw = new ResponseBody(controller, this);
    this.stream = raw;
    const decoder = streamDecoder(headers['content-encoding']);
    if (decoder) {
      delete headers['content-encoding'];
      this.body = pipeline(raw, decoder, ignore);
    } else {
      this.body = raw;
    }
    this.settle();
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.stream) {
      if (!this.stream.push(chunk)) controller.pause();
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    this.finish();
    if (this.stream) {
      this.stream.push(null);
      return;
    }
    const { chunks } = this;
    let body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, this.size);
    this.chunks = [];
    const encoding = this.headers['content-encoding'];
    if (encoding !== undefined && isDecodable(encoding)) {
      try {
        body = decodeSync(encoding, body);
        delete this.headers['content-encoding'];
      } catch (err) {
        const message = `cannot decode the ${String(encoding)} body: ${(err as Error).message}`;
        return this.fail(new UpstreamCallError(message, UpstreamCallCode.BadEncoding, false, err));
      }
    }
    this.body = body;
    this.settle();
  }

  onResponseError(_controller: Dispatcher.DispatchController | undefined, error: Error): void {
    this.finish();
    const err = this.toCallError(error);
    if (this.stream) {
      if (!this.stream.destroyed) this.stream.destroy(this.streamError(err));
      return;
    }
    this.fail(err);
  }

  /** The reader destroyed the streamed body before its end: abort the request (its connection is dropped). */
  streamDestroyed(err: Error | null): void {
    if (this.done || !this.controller) return;
    this.controller.abort(err ?? new UpstreamCallError('the response body was destroyed by its reader', UpstreamCallCode.StreamDestroyed));
  }

  private settle(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolve(this);
  }

  private fail(err: UpstreamCallError): void {
    if (this.settled) return;
    this.settled = true;
    this.finish();
    this.reject(err);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.request.signal?.removeEventListener('abort', this);
  }

  private streamError(err: UpstreamCallError): Error {
    const map = this.request.mapStreamError;
    return map ? map(err) : err;
  }

  private toCallError(error: unknown): UpstreamCallError {
    if (error instanceof UpstreamCallError) return error;
    const e = error as Error & { code?: string; socket?: { bytesRead?: number } };
    switch (e.code) {
      case 'UND_ERR_HEADERS_TIMEOUT':
        return new UpstreamCallError(`no response headers within ${this.request.headersTimeoutMs} ms`, UpstreamCallCode.HeadersTimeout, false, e);
      case 'UND_ERR_BODY_TIMEOUT':
        return new UpstreamCallError(`no body data for ${this.request.bodyTimeoutMs} ms`, UpstreamCallCode.BodyTimeout, false, e);
      case 'UND_ERR_ABORTED':
      case 'UND_ERR_ABORT':
        return new UpstreamCallError(e.message, UpstreamCallCode.Aborted, false, e);
      case 'UND_ERR_SOCKET': {
        // No response yet on a connection that has read bytes before: it had served an earlier request.
        const reused = this.status === 0 && (e.socket?.bytesRead ?? 0) > 0;
        return new UpstreamCallError(e.message, e.code, reused, e);
      }
      default:
        return new UpstreamCallError(e.message ?? String(error), e.code ?? UpstreamCallCode.Transport, false, e);
    }
  }
}

function abortedByCaller(): UpstreamCallError {
  return new UpstreamCallError('aborted by the caller', UpstreamCallCode.Aborted);
}

/** The raw body of a streamed response; reading resumes undici's paused parser. */
class ResponseBody extends Readable {
  constructor(
    private readonly controller: Dispatcher.DispatchController,
    private readonly call: UpstreamCall,
  ) {
    super();
  }

  override _read(): void {
    this.controller.resume();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.call.streamDestroyed(err);
    callback(err);
  }
}

function encodingName(encoding: string | string[] | undefined): string | undefined {
  return typeof encoding === 'string' ? encoding.trim().toLowerCase() : undefined;
}

function isDecodable(encoding: string | string[] | undefined): boolean {
  const name = encodingName(encoding);
  return name === 'gzip' || name === 'x-gzip' || name === 'deflate' || name === 'br';
}

// Z_SYNC_FLUSH decodes what has arrived so far and, as curl and browsers do, accepts a slightly
// truncated body.
function streamDecoder(encoding: string | string[] | undefined): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined {
  switch (encodingName(encoding)) {
    case 'gzip':
    case 'x-gzip':
      return zlib.createGunzip({ flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'deflate':
      return zlib.createInflate({ flush: zlib.constants.Z_SYNC_FLUSH, finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'br':
      return zlib.createBrotliDecompress({ flush: zlib.constants.BROTLI_OPERATION_FLUSH, finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH });
    default:
      return undefined;
  }
}

function decodeSync(encoding: string | string[], buffer: Buffer): Buffer {
  switch (encodingName(encoding)) {
    case 'gzip':
    case 'x-gzip':
      return zlib.gunzipSync(buffer, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'deflate':
      return zlib.inflateSync(buffer, { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    case 'br':
      return zlib.brotliDecompressSync(buffer);
    default:
      return buffer;
  }
}

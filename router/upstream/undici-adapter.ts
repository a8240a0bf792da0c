// An axios adapter that sends requests through an undici dispatcher instead of node:http.
//
// axios stays the client API (instance config, AxiosResponse, AxiosError codes, validateStatus,
// transformResponse with its JSON parsing); only the transport changes: undici's keep-alive pools and
// llhttp parser cost about half the CPU of node's http client per call (docs/performance.md).
//
// What it supports, i.e. what the upstream layer uses:
// - absolute http(s) URLs (or baseURL + relative url), any method, string/Buffer/Uint8Array bodies;
// - `timeout`: time until the response headers (undici headersTimeout), then the longest silence between
//   body chunks (bodyTimeout); a timeout rejects with ETIMEDOUT (ECONNABORTED without
//   transitional.clarifyTimeoutError), as axios's own adapters do. Both count from the moment the
//   request is written to a connection, and undici's timer wheel fires them up to about 1 s late;
// - `signal`: rejects at once with CanceledError (ERR_CANCELED) and aborts the request on its socket;
// - responseType 'json' / 'text' / undefined (buffered, decoded as `responseEncoding`, utf8 by
//   default; axios's transformResponse parses JSON), 'arraybuffer' (a Buffer) and 'stream' (a Node
//   Readable of the raw body, resolved as soon as the headers are in, with backpressure);
// - validateStatus, maxContentLength, gzip/deflate/br response bodies (decoded unless
//   `decompress: false`; no Accept-Encoding is sent, so a conforming server never compresses).
// Anything else that would change the request (params, auth, proxies, redirects, progress
// callbacks, object or stream bodies) is refused with ERR_BAD_OPTION rather than silently ignored.
import { Readable, pipeline } from 'node:stream';
import zlib from 'node:zlib';
import {
  AxiosError,
  CanceledError,
  type AxiosAdapter,
  type AxiosResponse,
  type InternalAxiosRequestConfig,
} from 'axios';
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'node:http';

export interface UndiciAdapterOptions {
  /** The dispatcher for each call, read per call so that its owner can replace it (see agents.ts). */
  dispatcher: () => Dispatcher;
  /**
   * Longest silence between body chunks of a responseType 'stream' response, in ms (default: the
   * request's `timeout`). A stream can legitimately last longer than any fixed limit.
   */
  streamIdleTimeoutMs?: number;
  /** The error a handed-over stream is destroyed with when it fails (default: the AxiosError itself). */
  mapStreamError?: (err: AxiosError) => Error;
}

type ResponseKind = 'buffered' | 'arraybuffer' | 'stream';

const UNSUPPORTED_OPTIONS = ['params', 'auth', 'onUploadProgress', 'onDownloadProgress', 'socketPath', 'cancelToken'] as const;

export function createUndiciAdapter(options: UndiciAdapterOptions): AxiosAdapter {
  return (config) =>
    new Promise<AxiosResponse>((resolve, reject) => {
      const call = new UndiciCall(config, options, resolve, reject);
      call.start();
    });
}

/**
 * One request: the undici dispatch handler, the `request` of its AxiosResponse / AxiosError, and
 * the abort listener, in one object (no per-call closures beyond the adapter's promise).
 */
class UndiciCall implements Dispatcher.DispatchHandler {
  readonly method: string;
  readonly origin: string = '';
  readonly path: string = '';
  /** True when a connection failure hit a connection that had already served a response. */
  reusedSocket = false;

  private controller: Dispatcher.DispatchController | null = null;
  private readonly kind: ResponseKind;
  private status = 0;
  private statusText = '';
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private stream: UpstreamBody | null = null;
  /** The promise is settled (resolved with headers for streams). */
  private settled = false;
  /** The request is over on undici's side (complete, failed or aborted). */
  private done = false;
  private abortReason: AxiosError | null = null;

  constructor(
    private readonly config: InternalAxiosRequestConfig,
    private readonly options: UndiciAdapterOptions,
    private readonly resolve: (res: AxiosResponse) => void,
    private readonly reject: (err: unknown) => void,
  ) {
    this.method = (config.method ?? 'get').toUpperCase();
    const rt = config.responseType;
    this.kind = rt === 'stream' ? 'stream' : rt === 'arraybuffer' ? 'arraybuffer' : 'buffered';
    const url = fullUrl(config);
    const at = url.indexOf('/', url.indexOf('//') + 2);
    this.origin = at < 0 ? url : url.slice(0, at);
    this.path = at < 0 ? '/' : url.slice(at);
  }

  get url(): string {
    return this.origin + this.path;
  }

  start(): void {
    const { config } = this;
    const problem = this.unsupported();
    if (problem) return this.fail(new AxiosError(problem, AxiosError.ERR_BAD_OPTION, config, this));
    const signal = config.signal as AbortSignal | undefined;
    if (signal) {
      if (signal.aborted) return this.fail(new CanceledError(undefined, config, this));
      signal.addEventListener('abort', this, { once: true });
    }
    const timeout = config.timeout ?? 0;
    const body = config.data as string | Uint8Array | undefined | null;
    try {
      this.options.dispatcher().dispatch(
        {
          origin: this.origin,
          path: this.path,
          method: this.method as Dispatcher.HttpMethod,
          headers: requestHeaders(config),
          body: body ?? null,
          headersTimeout: timeout,
          bodyTimeout: this.kind === 'stream' ? (this.options.streamIdleTimeoutMs ?? timeout) : timeout,
        },
        this,
      );
    } catch (err) {
      this.fail(this.toAxiosError(err));
    }
  }

  /** The caller's AbortSignal fired (EventListener interface, so the listener is this object). */
  handleEvent(): void {
    const reason = new CanceledError(undefined, this.config, this);
    this.abortReason = reason;
    if (this.controller) this.controller.abort(reason);
    // Not on a socket yet (queued, or connecting): reject now; onRequestStart aborts it later.
    this.fail(reason);
    if (this.stream && !this.stream.destroyed) this.stream.destroy(this.mapStreamError(reason));
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortReason) controller.abort(this.abortReason);
  }

  onResponseStart(controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders, statusMessage?: string): void {
    if (statusCode < 200) return; // 1xx informational
    this.status = statusCode;
    this.statusText = statusMessage ?? '';
    this.headers = headers;
    if (this.kind !== 'stream') return;
    const body = new UpstreamBody(controller, this);
    this.stream = body;
    const encoding = this.config.decompress === false ? undefined : headers['content-encoding'];
    const decoder = decoderFor(encoding);
    let data: Readable = body;
    if (decoder) {
      delete this.headers['content-encoding'];
      data = pipeline(body, decoder, () => {});
    }
    this.settle(data);
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.stream) {
      if (!this.stream.push(chunk)) controller.pause();
      return;
    }
    this.size += chunk.length;
    const max = this.config.maxContentLength ?? -1;
    if (max > -1 && this.size > max) {
      const err = new AxiosError(`maxContentLength size of ${max} exceeded`, AxiosError.ERR_BAD_RESPONSE, this.config, this);
      controller.abort(err);
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    this.finish();
    if (this.stream) {
      this.stream.push(null);
      return;
    }
    let buffer = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.size);
    this.chunks = [];
    const encoding = this.config.decompress === false ? undefined : this.headers['content-encoding'];
    if (encoding && decoderFor(encoding)) {
      try {
        buffer = decodeSync(encoding, buffer);
        delete this.headers['content-encoding'];
      } catch (err) {
        return this.fail(AxiosError.from(err as Error, AxiosError.ERR_BAD_RESPONSE, this.config, this));
      }
    }
    if (this.kind === 'arraybuffer') return this.settle(buffer);
    const text = buffer.toString((this.config.responseEncoding as BufferEncoding | undefined) ?? 'utf8');
    this.settle(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  }

  onResponseError(_controller: Dispatcher.DispatchController, error: Error): void {
    this.finish();
    const err = this.toAxiosError(error);
    if (this.stream) {
      if (!this.stream.destroyed) this.stream.destroy(this.mapStreamError(err));
      return;
    }
    this.fail(err);
  }

  /** The stream's consumer destroyed it before the end: abort the request (the connection is dropped). */
  streamDestroyed(err: Error | null): void {
    if (this.done || !this.controller) return;
    this.controller.abort(err ?? new CanceledError('stream destroyed by its consumer', this.config, this));
  }

  private settle(data: unknown): void {
    if (this.settled) return;
    this.settled = true;
    const response: AxiosResponse = {
      data,
      status: this.status,
      statusText: this.statusText,
      headers: this.headers as AxiosResponse['headers'],
      config: this.config,
      request: this,
    };
    const validate = this.config.validateStatus;
    if (!validate || validate(this.status)) return this.resolve(response);
    const code = this.status >= 400 && this.status < 500 ? AxiosError.ERR_BAD_REQUEST : AxiosError.ERR_BAD_RESPONSE;
    this.reject(new AxiosError(`Request failed with status code ${this.status}`, code, this.config, this, response));
  }

  private fail(err: unknown): void {
    if (this.settled) return;
    this.settled = true;
    this.finish();
    this.reject(err);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    (this.config.signal as AbortSignal | undefined)?.removeEventListener('abort', this);
  }

  private mapStreamError(err: AxiosError): Error {
    return this.options.mapStreamError ? this.options.mapStreamError(err) : err;
  }

  private toAxiosError(error: unknown): AxiosError {
    if (error instanceof AxiosError) return error;
    const e = error as Error & { code?: string; socket?: { bytesRead?: number } };
    switch (e.code) {
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT': {
        const streaming = e.code === 'UND_ERR_BODY_TIMEOUT' && this.kind === 'stream' && this.options.streamIdleTimeoutMs !== undefined;
        const ms = streaming ? this.options.streamIdleTimeoutMs : this.config.timeout;
        const message = this.config.timeoutErrorMessage ?? (streaming ? `no data for ${ms}ms while streaming` : `timeout of ${ms}ms exceeded`);
        const code = this.config.transitional?.clarifyTimeoutError ? AxiosError.ETIMEDOUT : AxiosError.ECONNABORTED;
        const err = new AxiosError(message, code, this.config, this);
        Object.defineProperty(err, 'cause', { value: e, enumerable: false, configurable: true, writable: true });
        return err;
      }
      case 'UND_ERR_ABORTED':
      case 'UND_ERR_ABORT':
        return new CanceledError(e.message, this.config, this);
      case 'UND_ERR_SOCKET':
        // The connection closed under the request. If it had already carried a response, this is
        // most likely a keep-alive connection the server was closing as we wrote to it.
        this.reusedSocket = this.status === 0 && (e.socket?.bytesRead ?? 0) > 0;
        return AxiosError.from(e, e.code, this.config, this);
      default:
        return AxiosError.from(e, e.code, this.config, this);
    }
  }

  private unsupported(): string | undefined {
    const c = this.config as unknown as Record<string, unknown>;
    for (const key of UNSUPPORTED_OPTIONS) if (c[key] !== undefined && c[key] !== null) return `undici adapter: option ${key} is not supported`;
    // A 3xx is returned as it is, as axios does with maxRedirects: 0.
    if (typeof c.maxRedirects === 'number' && c.maxRedirects > 0) return 'undici adapter: redirects are not followed; set maxRedirects: 0';
    if (c.proxy !== undefined && c.proxy !== false) return 'undici adapter: proxies are not supported; set proxy: false';
    const data = c.data;
    if (data !== undefined && data !== null && typeof data !== 'string' && !(data instanceof Uint8Array)) {
      return 'undici adapter: the body must be a string or bytes (serialize it in transformRequest)';
    }
    if (!/^https?:\/\//i.test(this.origin)) return `undici adapter: not an http(s) URL: ${this.origin}`;
    return undefined;
  }
}

/** The raw response body handed over for responseType 'stream'; reading resumes the paused parser. */
class UpstreamBody extends Readable {
  constructor(
    private readonly controller: Dispatcher.DispatchController,
    private readonly call: UndiciCall,
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

function fullUrl(config: InternalAxiosRequestConfig): string {
  const url = config.url ?? '';
  const base = config.baseURL;
  if (!base || /^[a-z][a-z\d+\-.]*:\/\//i.test(url)) return url;
  return base.replace(/\/+$/, '') + '/' + url.replace(/^\/+/, '');
}

/** axios's headers as undici takes them: a flat object of strings, no null/false values. */
function requestHeaders(config: InternalAxiosRequestConfig): Record<string, string> {
  return config.headers.toJSON(true) as Record<string, string>;
}

function decoderFor(encoding: string | string[] | undefined): zlib.Gunzip | zlib.Inflate | zlib.BrotliDecompress | undefined {
  switch (typeof encoding === 'string' ? encoding.trim().toLowerCase() : undefined) {
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
  switch (String(encoding).trim().toLowerCase()) {
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

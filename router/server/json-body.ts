// The JSON body of the POST endpoints. express.json (body-parser) reads every body; for the usual request
// this module reads it itself, which costs a fraction of body-parser's per-request work (content-type
// parsing, iconv decoder, raw-body bookkeeping, debug calls). The usual request: no Content-Encoding or
// Transfer-Encoding, no Content-Type or application/json (optionally charset=utf-8), a Content-Length
// within the limit. Everything else goes to express.json, configured as before: any content type read as
// JSON, the limit of the current configuration (413), gzip/deflate/br inflated under the same limit,
// unknown encodings and non-UTF charsets refused (415).
//
// For the requests it takes, the fast path gives what body-parser gives: UTF-8 decoding with a leading
// BOM dropped, an empty body read as {}, any JSON value accepted (strict: false), and errors of the same
// `type` (entity.parse.failed, request.aborted, request.size.invalid) for the error middleware.
import express, { type RequestHandler } from 'express';
import type { IncomingMessage } from 'node:http';
import type { RouterState } from './state.js';

/** An error shaped like body-parser's (http-errors), as errors-middleware reads them. */
function bodyError(status: number, message: string, type: string, extra: Record<string, unknown> = {}): Error {
  return Object.assign(new Error(message), { status, statusCode: status, expose: true, type, ...extra });
}

/** No Content-Type, or JSON in UTF-8: what the fast path reads (the simulator's fast route: JSON in UTF-8 only). */
export function isPlainJson(type: string | undefined): boolean {
  if (type === undefined) return true;
  switch (type.toLowerCase()) {
    case 'application/json':
    case 'application/json; charset=utf-8':
    case 'application/json;charset=utf-8':
      return true;
    default:
      return false;
  }
}

function parse(buffer: Buffer): unknown {
  let text = buffer.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (text.length === 0) return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw bodyError(400, (err as Error).message, 'entity.parse.failed', { body: text });
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * Read a whole body whose length is known (node's parser delivers exactly Content-Length bytes, or the request
 * aborts), and hand it over once, or an error shaped like body-parser's. The simulator's fast route reads its
 * bodies with it too.
 */
export function readExactBody(req: IncomingMessage, expected: number, done: (err: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  let received = 0;
  let finished = false;
  const finish = (err: Error | null, body: Buffer = EMPTY): void => {
    if (finished) return;
    finished = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onAborted);
    req.off('close', onClose);
    done(err, body);
  };
  const onData = (chunk: Buffer): void => {
    received += chunk.length;
    chunks.push(chunk);
  };
  const onEnd = (): void => {
    if (received !== expected) {
      return finish(bodyError(400, 'request size did not match content length', 'request.size.invalid', { expected, length: expected, received }));
    }
    finish(null, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
  };
  const onAborted = (): void => finish(bodyError(400, 'request aborted', 'request.aborted', { code: 'ECONNABORTED', expected, length: expected, received }));
  const onClose = (): void => {
    if (!req.complete) onAborted();
  };
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onAborted);
  req.on('close', onClose);
}


/** Read the whole body (its length is known and within the limit), then parse it. */
function readBody(req: IncomingMessage & { body?: unknown }, expected: number, next: (err?: unknown) => void): void {
  readExactBody(req, expected, (err, body) => {
    if (err) return next(err);
    try {
      req.body = parse(body);
    } catch (parseError) {
      return next(parseError);
    }
    next();
  });
}

/** The body parser of the POST endpoints, with the limit of the configuration current at each request. */
export function jsonBody(getState: () => RouterState): RequestHandler {
  const fallbacks = new Map<number, RequestHandler>();
  let stateSeen: RouterState | null = null;
  let limit = 0;
  let fallback: RequestHandler = (_req, _res, next) => next();
  return (req, res, next) => {
    const state = getState();
    if (state !== stateSeen) {
      stateSeen = state;
      limit = state.config.server.bodyLimitBytes;
      let parser = fallbacks.get(limit);
      if (!parser) {
        // Any content type is read as JSON: OpenAI clients sometimes omit or vary the header.
        parser = express.json({ limit, type: () => true, strict: false });
        fallbacks.set(limit, parser);
      }
      fallback = parser;
    }
    const h = req.headers;
    const length = h['content-length'];
    if (
      length === undefined ||
      h['transfer-encoding'] !== undefined ||
      h['content-encoding'] !== undefined ||
      !isPlainJson(h['content-type']) ||
      !req.readable ||
      req.readableFlowing !== null
    ) {
      return fallback(req, res, next);
    }
    // node's HTTP parser admits only a decimal Content-Length, and delivers exactly that many bytes.
    const expected = Number(length);
    if (!(expected <= limit)) return fallback(req, res, next);
    readBody(req, expected, next);
  };
}

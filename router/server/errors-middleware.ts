// Mapping every failure to an OpenAI-shaped error with the right status, and counting it.
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';
import { ApiError, badRequest, bodyTooLarge, toApiError, upstreamFailure } from '../api/errors.js';
import type { RouterMetrics, RequestOutcome } from '../metrics/router-metrics.js';
import { UpstreamError } from '../upstream/types.js';

/** What a handler knows about a request, for metrics and logs when it fails. */
export interface RequestLabels {
  cascade: string;
  tier: string;
  mode: 'routed' | 'pinned';
}

export function labelsOf(res: Response): RequestLabels | undefined {
  return res.locals.tiermix as RequestLabels | undefined;
}

/**
 * vLLM's errors are nearly OpenAI's, but its `code` is the HTTP status as a number; clients and SDKs
 * expect a string or null. Keep vLLM's message and type, and normalise the rest.
 */
export function normaliseUpstreamError(body: unknown, status: number, tier: string): { error: Record<string, unknown> } {
  const e = (body as { error?: Record<string, unknown> } | null)?.error;
  if (typeof e !== 'object' || e === null || typeof e.message !== 'string') {
    return badRequest(`Tier ${tier} rejected the request (HTTP ${status}).`, null, 'upstream_rejected').toBody();
  }
  const code = e.code;
  return {
    error: {
      message: e.message,
      type: typeof e.type === 'string' && e.type !== '' ? e.type : 'invalid_request_error',
      param: typeof e.param === 'string' ? e.param : null,
      code: typeof code === 'string' ? code : code === null || code === undefined ? null : String(code),
    },
  };
}

/** Errors from body parsing (express.json) carry a `type`. */
function fromBodyParser(err: { type?: string; limit?: number; status?: number }): ApiError | undefined {
  switch (err.type) {
    case 'entity.parse.failed':
      return badRequest('The request body is not valid JSON.', null, 'invalid_json');
    case 'entity.too.large':
      return bodyTooLarge(err.limit ?? 0);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'invalid_request_error', 'Unsupported content encoding or charset; send UTF-8 JSON.', null, 'unsupported_media_type');
    case 'request.aborted':
    case 'request.size.invalid':
    case 'stream.encoding.set':
      return badRequest('The request body was incomplete or malformed.', null, 'invalid_body');
    default:
      if (typeof err.status === 'number' && err.status >= 400 && err.status < 500) {
        return badRequest('The request body could not be read.', null, 'invalid_body');
      }
      return undefined;
  }
}

export function errorMiddleware(metrics: RouterMetrics, logger: Logger) {
  return (err: unknown, _req: Request, res: Response, _next: NextFunction): void => {
    const labels = labelsOf(res);
    let status: number;
    let body: unknown;
    let outcome: RequestOutcome;

    if (err instanceof UpstreamError) {
      if (err.kind === 'aborted') {
        // The client went away; nobody is left to answer.
        if (labels) metrics.recordRequest({ ...labels, outcome: 'client_error' });
        if (!res.headersSent) res.status(499).end();
        return;
      }
      if (err.kind === 'status_4xx' && err.status !== undefined) {
        status = err.status;
        body = normaliseUpstreamError(err.body, err.status, err.tier);
        outcome = 'client_error';
      } else {
        const apiErr = upstreamFailure(
          err.kind === 'timeout'
            ? `Tier ${err.tier} did not answer in time (after ${err.attempts} attempt(s)).`
            : err.kind === 'no_replica'
              ? `${err.message.charAt(0).toUpperCase()}${err.message.slice(1)}.`
              : `Tier ${err.tier} is unavailable (${err.kind}, ${err.attempts} attempt(s)).`,
          err.kind === 'timeout' ? 504 : err.kind === 'no_replica' ? 503 : 502,
        );
        status = apiErr.status;
        body = apiErr.toBody();
        outcome = 'upstream_error';
        logger.warn({ tier: err.tier, kind: err.kind, attempts: err.attempts }, 'upstream failure');
      }
    } else {
      const apiErr = err instanceof ApiError ? err : (fromBodyParser(err as { type?: string }) ?? toApiError(err));
      if (apiErr.status >= 500) logger.error({ err }, 'internal error');
      status = apiErr.status;
      body = apiErr.toBody();
      outcome = apiErr.status >= 500 ? 'error' : 'client_error';
    }

    metrics.recordRequest({ cascade: labels?.cascade ?? '', tier: labels?.tier ?? '', mode: labels?.mode ?? 'routed', outcome });
    if (res.headersSent) {
      // Mid-stream failure: the status is gone; end the stream so the client sees it stop.
      res.end();
      return;
    }
    res.status(status).json(body);
  };
}

// OpenAI-shaped errors: {"error":{"message","type","param","code"}} with the matching HTTP status, so
// that OpenAI SDKs raise their usual exception classes (BadRequestError, NotFoundError, ...).

export type ErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error'
  | 'upstream_error'
  | 'timeout_error';

export interface OpenAIErrorBody {
  error: { message: string; type: ErrorType; param: string | null; code: string | null };
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: ErrorType,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const badRequest = (message: string, param: string | null = null, code: string | null = 'invalid_value') =>
  new ApiError(400, 'invalid_request_error', message, param, code);

/** @param why with no model known: why (e.g. the configuration is not loaded yet); default: no cascade is configured. */
export const unknownModel = (model: string, known: readonly string[], why?: string) =>
  new ApiError(
    404,
    'not_found_error',
    known.length > 0
      ? `The model '${model}' does not exist. Use a cascade or a tier name: ${known.join(', ')}.`
      : `The model '${model}' does not exist: no cascade is configured yet${why ? ` (${why})` : ''}. ` +
          'Create a ModelCascade (or add one under cascades: in the router configuration); GET /v1/models lists what is served.',
    'model',
    'model_not_found',
  );

export const unauthorized = () =>
  new ApiError(401, 'authentication_error', 'Missing or invalid API key. Send it as "Authorization: Bearer <key>".', null, 'invalid_api_key');

export const bodyTooLarge = (limit: number) =>
  new ApiError(413, 'invalid_request_error', `Request body is larger than the limit of ${limit} bytes.`, null, 'request_too_large');

export const upstreamFailure = (message: string, status = 502) =>
  new ApiError(status, status === 504 ? 'timeout_error' : 'upstream_error', message, null, status === 504 ? 'upstream_timeout' : 'upstream_unavailable');

export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  return new ApiError(500, 'server_error', 'Internal error in the tiermix router.', null, 'internal_error');
}

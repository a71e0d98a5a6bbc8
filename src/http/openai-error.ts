/**
 * OpenAI's error body, `{"error": {"message", "type", "code", "param"}}`, the one error shape of every ogpu server
 * (the gateway, the provider's stream API, its items API and status routes).
 */

/** The error type of ogpu's own refusals (docs/protocol.md): the provider's servers answer it. */
export const OGPU_ERROR_TYPE = 'ogpu_error'

export interface OpenAiErrorBody {
  error: {message: string; type: string; code: string; param?: string | null}
}

export interface OpenAiErrorOptions {
  /** The error's `type`. Defaults to the type OpenAI gives `status` ({@link openAiErrorType}). */
  type?: string
  /** The HTTP status answered, for the default `type`. Defaults to 400. */
  status?: number
  /** The request field at fault. Defaults to none (the key is left out). */
  param?: string | null
}

/** OpenAI's error type for an HTTP status: server_error (5xx), authentication_error (401), invalid_request_error. */
export function openAiErrorType(status: number): string {
  return status >= 500 ? 'server_error' : status === 401 ? 'authentication_error' : 'invalid_request_error'
}

export function openAiError(code: string, message: string, options: OpenAiErrorOptions = {}): OpenAiErrorBody {
  const type = options.type ?? openAiErrorType(options.status ?? 400)
  return {error: {message, type, code, ...(options.param === undefined ? {} : {param: options.param})}}
}

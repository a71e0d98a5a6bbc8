/**
 * The error a server answers with an HTTP status. 4xx are the caller's fault (kind `user`), 5xx a failure outside the
 * caller (kind `external`), so the CLI prints and exits with them like any other error of the hierarchy.
 */
import {ExitCode, OgpuError, type OgpuErrorOptions} from '../errors/index.js'

export interface HttpStatusErrorOptions extends Omit<OgpuErrorOptions, 'code'> {
  /** The request field the error is about (OpenAI's `param`). Defaults to none. */
  param?: string
}

export class HttpStatusError extends OgpuError {
  readonly kind: 'user' | 'external'
  readonly exitCode: number
  readonly param?: string

  constructor(
    /** The HTTP status answered, e.g. 413. */
    readonly status: number,
    /** The machine-readable code in the error body, e.g. `too_large`. */
    code: string,
    message: string,
    options: HttpStatusErrorOptions = {},
  ) {
    super(message, {...options, code})
    this.kind = status < 500 ? 'user' : 'external'
    this.exitCode = status < 500 ? ExitCode.User : ExitCode.External
    this.param = options.param
  }
}

/**
 * The HTTP status to answer for an error: an {@link HttpStatusError}'s status, else a numeric `details.status` of an
 * ogpu error, else `fallback`. Defaults to 500.
 */
export function httpStatusOf(error: unknown, fallback = 500): number {
  if (error instanceof HttpStatusError) return error.status
  const status = error instanceof OgpuError ? error.details?.status : undefined
  return typeof status === 'number' ? status : fallback
}

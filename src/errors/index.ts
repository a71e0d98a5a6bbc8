/**
 * The one error hierarchy of ogpu. Every failure a user can see is one of these four kinds, each with a fixed
 * exit code. Services throw them; only the CLI's single handler (src/cli/base-command.ts) prints them and sets the
 * exit code. Services never call process.exit.
 */

import type {CodeOfKind, ErrorCode, ErrorKind, RevertCode} from './codes.js'

export {ERROR_CODES, errorCodeInfo, REVERT_CODE_PREFIX} from './codes.js'
export type {CodeOfKind, ErrorCode, ErrorCodeInfo, ErrorKind, RegisteredCode, RevertCode} from './codes.js'

/** Fixed exit codes, part of the CLI's public contract (scripts depend on them). */
export const ExitCode = {
  /** A bug in ogpu: something that should never happen. */
  Bug: 1,
  /** The user can fix it: bad input, missing setup. The error carries a hint with the next step. */
  User: 2,
  /** Something outside ogpu failed: the RPC endpoint, llama.cpp, the network. */
  External: 3,
  /** The user cancelled (Ctrl-C, declined a prompt). */
  Cancelled: 130,
} as const

/** The codes each kind of error may carry (src/errors/codes.ts): a code of another kind does not compile. */
export type UserErrorCode = CodeOfKind<'user'> | RevertCode
export type ExternalErrorCode = CodeOfKind<'external'>
export type BugErrorCode = CodeOfKind<'bug'>
export type CancelledErrorCode = CodeOfKind<'cancelled'>

export interface OgpuErrorOptions<Code extends string = ErrorCode> {
  /** A stable machine-readable code of the registry (src/errors/codes.ts), e.g. `WALLET_NOT_FOUND`. Defaults to the kind's code (`USER_ERROR`, `EXTERNAL_ERROR`, `BUG`, `CANCELLED`). */
  code?: Code
  /** What the user can do next. Defaults to none. */
  hint?: string
  /** Structured facts for `--json` output (never secrets). Defaults to none. */
  details?: Record<string, unknown>
  /** The underlying error. Defaults to none. */
  cause?: unknown
}

export abstract class OgpuError extends Error {
  abstract readonly kind: ErrorKind
  abstract readonly exitCode: number
  /**
   * The code: one of the registry (src/errors/codes.ts; each subclass of a kind narrows it to the codes of its kind),
   * or for an HttpStatusError the wire code of the OpenAI error body it answers.
   */
  readonly code: string
  readonly hint?: string
  readonly details?: Record<string, unknown>

  protected constructor(message: string, options: OgpuErrorOptions<string> & {code: string}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.code = options.code
    this.hint = options.hint
    this.details = options.details
  }

  /** The shape printed by `--json` on failure. */
  toJSON(): {code: string; kind: ErrorKind; message: string; hint?: string; details?: Record<string, unknown>} {
    return {
      code: this.code,
      kind: this.kind,
      message: this.message,
      ...(this.hint ? {hint: this.hint} : {}),
      ...(this.details ? {details: this.details} : {}),
    }
  }
}

/** Bad input or missing setup: the user can fix it. Always says what is wrong, and the hint says what to do. */
export class UserError extends OgpuError {
  readonly kind = 'user' as const
  readonly exitCode = ExitCode.User
  declare readonly code: UserErrorCode
  constructor(message: string, options: OgpuErrorOptions<UserErrorCode> = {}) {
    super(message, {...options, code: options.code ?? 'USER_ERROR'})
  }
}

/** A failure outside ogpu: an unreachable RPC endpoint, a failing download, llama.cpp refusing a model. */
export class ExternalError extends OgpuError {
  readonly kind = 'external' as const
  readonly exitCode = ExitCode.External
  declare readonly code: ExternalErrorCode
  constructor(message: string, options: OgpuErrorOptions<ExternalErrorCode> = {}) {
    super(message, {...options, code: options.code ?? 'EXTERNAL_ERROR'})
  }
}

/** Something that should never happen. The message asks the user to report it. */
export class BugError extends OgpuError {
  readonly kind = 'bug' as const
  readonly exitCode = ExitCode.Bug
  declare readonly code: BugErrorCode
  constructor(message: string, options: OgpuErrorOptions<BugErrorCode> = {}) {
    super(message, {hint: 'This is a bug in ogpu. Please report it with the command you ran.', ...options, code: options.code ?? 'BUG'})
  }
}

/** The user cancelled. Printed quietly. */
export class CancelledError extends OgpuError {
  readonly kind = 'cancelled' as const
  readonly exitCode = ExitCode.Cancelled
  declare readonly code: CancelledErrorCode
  constructor(message = 'Cancelled.', options: OgpuErrorOptions<CancelledErrorCode> = {}) {
    super(message, {...options, code: options.code ?? 'CANCELLED'})
  }
}

export function isOgpuError(err: unknown): err is OgpuError {
  return err instanceof OgpuError
}

/** Converts errors from other layers into the hierarchy. Add-on converters (chain, llama) run first. */
export type ErrorConverter = (err: unknown) => OgpuError | undefined

export function toOgpuError(err: unknown, converters: readonly ErrorConverter[] = []): OgpuError {
  if (isOgpuError(err)) return err
  for (const convert of converters) {
    const converted = convert(err)
    if (converted) return converted
  }
  if (err instanceof Error) {
    const anyErr = err as Error & {code?: string; oclif?: {exit?: number}}
    if (anyErr.name === 'AbortError' || anyErr.name === 'ExitPromptError' || anyErr.message === 'SIGINT')
      return new CancelledError()
    // oclif parse errors (unknown flag, missing argument, bad option value) are user errors.
    if (anyErr.oclif && typeof anyErr.oclif.exit === 'number' && anyErr.oclif.exit !== 0)
      return new UserError(stripAnsi(anyErr.message), {code: 'INVALID_ARGUMENTS', hint: 'See --help for usage.'})
    if (anyErr.code === 'ECONNREFUSED' || anyErr.code === 'ENOTFOUND' || anyErr.code === 'ETIMEDOUT')
      return new ExternalError(err.message, {code: 'NETWORK_ERROR', cause: err})
    return new BugError(err.message, {cause: err})
  }
  return new BugError(String(err))
}

export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\u001B\[[0-9;]*m/g, '')
}

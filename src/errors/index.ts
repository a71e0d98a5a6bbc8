/**
 * The one error hierarchy of ogpu. Every failure a user can see is one of these four kinds, each with a fixed
 * exit code. Services throw them; only the CLI's single handler (src/cli/base-command.ts) prints them and sets the
 * exit code. Services never call process.exit.
 */

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

export type ErrorKind = 'bug' | 'user' | 'external' | 'cancelled'

export interface OgpuErrorOptions {
  /** A stable machine-readable code, e.g. `WALLET_NOT_FOUND`. Defaults to a code derived from the kind. */
  code?: string
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
  readonly code: string
  readonly hint?: string
  readonly details?: Record<string, unknown>

  constructor(message: string, options: OgpuErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : {cause: options.cause})
    this.name = new.target.name
    this.code = options.code ?? 'ERROR'
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
  constructor(message: string, options: OgpuErrorOptions = {}) {
    super(message, {code: 'USER_ERROR', ...options})
  }
}

/** A failure outside ogpu: an unreachable RPC endpoint, a failing download, llama.cpp refusing a model. */
export class ExternalError extends OgpuError {
  readonly kind = 'external' as const
  readonly exitCode = ExitCode.External
  constructor(message: string, options: OgpuErrorOptions = {}) {
    super(message, {code: 'EXTERNAL_ERROR', ...options})
  }
}

/** Something that should never happen. The message asks the user to report it. */
export class BugError extends OgpuError {
  readonly kind = 'bug' as const
  readonly exitCode = ExitCode.Bug
  constructor(message: string, options: OgpuErrorOptions = {}) {
    super(message, {code: 'BUG', hint: 'This is a bug in ogpu. Please report it with the command you ran.', ...options})
  }
}

/** The user cancelled. Printed quietly. */
export class CancelledError extends OgpuError {
  readonly kind = 'cancelled' as const
  readonly exitCode = ExitCode.Cancelled
  constructor(message = 'Cancelled.', options: OgpuErrorOptions = {}) {
    super(message, {code: 'CANCELLED', ...options})
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

/** The error-code registry: each code has one kind and a one-line meaning, and the errors of a kind carry its codes. */
import {describe, expect, it} from 'vitest'

import {
  BugError,
  CancelledError,
  ERROR_CODES,
  errorCodeInfo,
  ExitCode,
  ExternalError,
  type OgpuError,
  toOgpuError,
  UserError,
} from '../../../src/errors/index.js'

describe('ERROR_CODES', () => {
  it('gives every code a kind and a one-line meaning', () => {
    const kinds = new Set(['user', 'external', 'bug', 'cancelled'])
    for (const [code, info] of Object.entries(ERROR_CODES)) {
      expect(code).toMatch(/^[A-Z][A-Z0-9_]*$/)
      expect(code.startsWith('REVERT_')).toBe(false)
      expect(kinds.has(info.kind)).toBe(true)
      expect(info.meaning).toMatch(/^\S.*\.$/)
      expect(info.meaning).not.toContain('\n')
    }
  })

  it('registers the default code of each kind under that kind', () => {
    const defaults: OgpuError[] = [new UserError('x'), new ExternalError('x'), new BugError('x'), new CancelledError()]
    expect(defaults.map((e) => e.code)).toEqual(['USER_ERROR', 'EXTERNAL_ERROR', 'BUG', 'CANCELLED'])
    for (const error of defaults) expect(errorCodeInfo(error.code)?.kind).toBe(error.kind)
  })

  it('registers the codes the generic converter gives, under the kind it gives them', () => {
    const converted = [
      toOgpuError(Object.assign(new Error('Nonexistent flag: --x'), {oclif: {exit: 2}})),
      toOgpuError(Object.assign(new Error('connect'), {code: 'ECONNREFUSED'})),
      toOgpuError(new TypeError('boom')),
      toOgpuError(Object.assign(new Error('gone'), {name: 'AbortError'})),
    ]
    expect(converted.map((e) => e.code)).toEqual(['INVALID_ARGUMENTS', 'NETWORK_ERROR', 'BUG', 'CANCELLED'])
    for (const error of converted) expect(errorCodeInfo(error.code)?.kind).toBe(error.kind)
  })

  it('keeps the default hint of a bug unless one is given, and the given code', () => {
    expect(new BugError('x').hint).toMatch(/bug in ogpu/)
    expect(new BugError('x', {code: 'UNEXPECTED', hint: 'h'}).toJSON()).toEqual({code: 'UNEXPECTED', kind: 'bug', message: 'x', hint: 'h'})
  })

  it('describes revert codes as user errors and knows no other code', () => {
    expect(errorCodeInfo('REVERT_TaskMarketUnknownTask')).toEqual({kind: 'user', meaning: 'The contract refused with the custom error TaskMarketUnknownTask.'})
    expect(errorCodeInfo('REVERT_')).toBeUndefined()
    expect(errorCodeInfo('NO_SUCH_CODE')).toBeUndefined()
    expect(errorCodeInfo('toString')).toBeUndefined()
  })

  it('maps each kind to its exit code', () => {
    const exit = {user: ExitCode.User, external: ExitCode.External, bug: ExitCode.Bug, cancelled: ExitCode.Cancelled}
    for (const error of [new UserError('x'), new ExternalError('x'), new BugError('x'), new CancelledError()]) expect(error.exitCode).toBe(exit[error.kind])
  })
})

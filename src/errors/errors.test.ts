import {describe, expect, it} from 'vitest'

import {BugError, CancelledError, ExitCode, ExternalError, UserError, toOgpuError} from './index.js'

describe('error hierarchy', () => {
  it('has fixed exit codes', () => {
    expect(new UserError('x').exitCode).toBe(2)
    expect(new ExternalError('x').exitCode).toBe(3)
    expect(new BugError('x').exitCode).toBe(1)
    expect(new CancelledError().exitCode).toBe(130)
    expect(ExitCode).toEqual({Bug: 1, User: 2, External: 3, Cancelled: 130})
  })

  it('serialises to a small JSON without stack or config', () => {
    const json = new UserError('Bad amount.', {code: 'INVALID_AMOUNT', hint: 'Use 12.5', details: {field: 'amount'}}).toJSON()
    expect(json).toEqual({code: 'INVALID_AMOUNT', kind: 'user', message: 'Bad amount.', hint: 'Use 12.5', details: {field: 'amount'}})
  })

  it('classifies foreign errors', () => {
    expect(toOgpuError(Object.assign(new Error('Nonexistent flag: --x'), {oclif: {exit: 2}}))).toBeInstanceOf(UserError)
    expect(toOgpuError(Object.assign(new Error('gone'), {name: 'ExitPromptError'}))).toBeInstanceOf(CancelledError)
    expect(toOgpuError(Object.assign(new Error('connect'), {code: 'ECONNREFUSED'}))).toBeInstanceOf(ExternalError)
    expect(toOgpuError(new TypeError('undefined is not a function'))).toBeInstanceOf(BugError)
    const user = new UserError('mine')
    expect(toOgpuError(user)).toBe(user)
    expect(toOgpuError('weird')).toBeInstanceOf(BugError)
  })

  it('lets converters run first', () => {
    const converted = new ExternalError('rpc down')
    expect(toOgpuError(new Error('x'), [() => converted])).toBe(converted)
  })
})

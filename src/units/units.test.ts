import {describe, expect, it} from 'vitest'

import {UserError} from '../errors/index.js'
import {amountJson, formatAmount, parseAmount} from './index.js'

describe('parseAmount', () => {
  it('parses plain decimals into 18-decimal base units', () => {
    expect(parseAmount('12.5')).toBe(12_500_000_000_000_000_000n)
    expect(parseAmount('1000')).toBe(1000n * 10n ** 18n)
    expect(parseAmount('0.000000000000000001')).toBe(1n)
    expect(parseAmount(' 7 ')).toBe(7n * 10n ** 18n)
  })

  it.each([
    ['1,5', /comma/],
    ['-3', /negative/],
    ['abc', /not a number/],
    ['1e18', /not a number/],
    ['', /not a number/],
    ['1.2.3', /not a number/],
    ['0.0000000000000000001', /more than 18 decimals/],
    ['0', /greater than zero/],
  ])('refuses %j with a clear user error', (input, message) => {
    let error: unknown
    try {
      parseAmount(input)
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(UserError)
    expect((error as UserError).message).toMatch(message)
    expect((error as UserError).exitCode).toBe(2)
    expect((error as UserError).hint).toMatch(/12\.5/)
  })

  it('accepts zero only when asked', () => {
    expect(parseAmount('0', 'ETH', {allowZero: true})).toBe(0n)
  })
})

describe('formatAmount', () => {
  it('drops a trailing .0 and keeps exact decimals', () => {
    expect(formatAmount(100n * 10n ** 18n)).toBe('100')
    expect(formatAmount(12_500_000_000_000_000_000n)).toBe('12.5')
    expect(formatAmount(1n)).toBe('0.000000000000000001')
    expect(amountJson(5n * 10n ** 17n)).toEqual({value: '0.5', wei: '500000000000000000'})
  })
})

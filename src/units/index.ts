/** oGPU amounts as people type and read them (decimal strings) and as the chain holds them (18-decimal base units). */
import {formatUnits, parseUnits} from 'ethers'

import {UserError} from '../errors/index.js'

/** oGPU and ETH both have 18 decimals. */
export const DECIMALS = 18

const DECIMAL = /^(\d+)(\.(\d+))?$/

/**
 * Parses a user-typed decimal amount ("12.5", "1000", "0.000001") into base units. Refuses anything ambiguous:
 * commas, signs, exponents, spaces, more than 18 decimals, zero unless allowed.
 */
export function parseAmount(input: string, what = 'amount', options: {allowZero?: boolean} = {}): bigint {
  const text = input.trim()
  const example = 'Use a plain decimal number with a dot, e.g. 12.5'
  if (text.includes(','))
    throw new UserError(`${what} "${input}" contains a comma.`, {code: 'INVALID_AMOUNT', hint: `${example} (not 12,5).`})
  if (text.startsWith('-')) throw new UserError(`${what} "${input}" is negative.`, {code: 'INVALID_AMOUNT', hint: `${example}.`})
  const match = DECIMAL.exec(text)
  if (!match) throw new UserError(`${what} "${input}" is not a number.`, {code: 'INVALID_AMOUNT', hint: `${example}.`})
  if ((match[3]?.length ?? 0) > DECIMALS)
    throw new UserError(`${what} "${input}" has more than ${DECIMALS} decimals.`, {code: 'INVALID_AMOUNT', hint: `${example}.`})
  const value = parseUnits(text, DECIMALS)
  if (value === 0n && !options.allowZero)
    throw new UserError(`${what} must be greater than zero.`, {code: 'INVALID_AMOUNT', hint: `${example}.`})
  return value
}

/** Formats base units as a decimal string without trailing zeros ("12.5", "100"). */
export function formatAmount(value: bigint): string {
  const text = formatUnits(value, DECIMALS)
  return text.endsWith('.0') ? text.slice(0, -2) : text
}

/** An amount as both a human decimal and exact base units, for `--json`. */
export interface AmountJson {
  /** Decimal string in whole tokens, e.g. "12.5". */
  value: string
  /** Exact base units (wei), as a decimal string. */
  wei: string
}

export function amountJson(value: bigint): AmountJson {
  return {value: formatAmount(value), wei: value.toString()}
}

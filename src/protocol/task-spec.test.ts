import {describe, expect, it} from 'vitest'

import {UserError} from '../errors/index.js'
import {parseDuration, parseTaskSpec} from './task-spec.js'

const SHA = 'a'.repeat(64)
const valid = `version: 1
kind: batch
name: summaries
model:
  name: tiny-llama
  sha256: ${SHA}
data:
  uri: ./items.jsonl
instructions:
  maxTokens: 32
  checkpoints: 2
payment:
  maxPrice: "100"
verification:
  council: 2
halting:
  maxBids: 4
  biddingWindow: 30s
`

function errorOf(text: string): UserError {
  try {
    parseTaskSpec(text, {path: 'spec.yaml'})
  } catch (error) {
    if (error instanceof UserError) return error
    throw error
  }
  throw new Error('expected the spec to be refused')
}

describe('parseTaskSpec', () => {
  it('applies defaults and converts units', () => {
    const {spec, specHash} = parseTaskSpec(valid)
    expect(spec.instructions).toMatchObject({maxTokens: 32, checkpoints: 2, sampling: {mode: 'greedy'}, checkpointWindow: 600})
    expect(spec.payment.maxPrice).toBe(100n * 10n ** 18n)
    expect(spec.payment.councilFeePerVote).toBe(10n ** 18n)
    expect(spec.payment.collateral).toBe(100n * 10n ** 18n)
    // greedy output is prefill-consistent: a tight default ε; sampled output keeps 0.1
    expect(spec.verification).toMatchObject({method: 'prefill', council: 2, epsilon: 0.01, maxRank: 2})
    expect(parseTaskSpec(valid.replace('maxTokens: 32', 'maxTokens: 32\n  sampling: {mode: sampled, temperature: 0.7}')).spec.verification.epsilon).toBe(0.1)
    expect(spec.halting).toEqual({maxBids: 4, biddingWindow: 30})
    expect(specHash).toMatch(/^0x[0-9a-f]{64}$/)
  })

  it('hashes the document canonically: key order and formatting do not matter, content does', () => {
    const reordered = valid.replace('name: summaries\n', '') + 'name: summaries\n'
    expect(parseTaskSpec(reordered).specHash).toBe(parseTaskSpec(valid).specHash)
    expect(parseTaskSpec(valid.replace('maxTokens: 32', 'maxTokens: 33')).specHash).not.toBe(parseTaskSpec(valid).specHash)
  })

  it('names an unknown field and its line', () => {
    const error = errorOf(valid.replace('  maxPrice: "100"', '  maxPrice: "100"\n  maxprice: 5'))
    expect(error.message).toContain('spec.yaml:14: unknown field "payment.maxprice"')
  })

  it('names a wrong value and its line', () => {
    const error = errorOf(valid.replace('maxTokens: 32', 'maxTokens: -4'))
    expect(error.message).toContain('spec.yaml:10: instructions.maxTokens must be >= 1')
    const amount = errorOf(valid.replace('maxPrice: "100"', 'maxPrice: "1,5"'))
    expect(amount.message).toMatch(/spec\.yaml:13: payment\.maxPrice/)
  })

  it('names a missing field', () => {
    const error = errorOf(valid.replace('data:\n  uri: ./items.jsonl\n', ''))
    expect(error.message).toContain('missing field "data"')
  })

  it('reports invalid YAML with its line', () => {
    const error = errorOf('version: 1\nkind: batch\nmodel: [unclosed\n')
    expect(error.code).toBe('INVALID_YAML')
    expect(error.message).toMatch(/^spec\.yaml:\d+: invalid YAML/)
  })

  it('refuses a duplicated key, a non-mapping, and inconsistent penalty windows', () => {
    expect(errorOf(valid + 'kind: batch\n').code).toBe('INVALID_YAML')
    expect(errorOf('- a\n- b\n').message).toMatch(/YAML mapping/)
    const penalty = errorOf(valid.replace('  maxPrice: "100"', '  maxPrice: "100"\n  latePenalty: {soft: 10m, hard: 5m}'))
    expect(penalty.message).toMatch(/latePenalty\.hard must be later than soft/)
  })

  it('needs at least one bid, not room for the council (it comes from the staked pool)', () => {
    expect(parseTaskSpec(valid.replace('maxBids: 4', 'maxBids: 1'), {path: 'spec.yaml'}).spec.halting.maxBids).toBe(1)
    const error = errorOf(valid.replace('maxBids: 4', 'maxBids: 0'))
    expect(error.message).toMatch(/halting\.maxBids/)
  })

  it('parses durations', () => {
    expect(parseDuration('90s')).toBe(90)
    expect(parseDuration('15m')).toBe(900)
    expect(parseDuration('2h')).toBe(7200)
    expect(parseDuration(42)).toBe(42)
    expect(() => parseDuration('soon')).toThrow(UserError)
  })
})

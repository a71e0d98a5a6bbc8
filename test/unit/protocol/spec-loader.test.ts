/** The one spec pipeline (parse, schema, problems) and the schema fragments task and stream specs share. */
import {describe, expect, it} from 'vitest'

import {amount, duration, positiveAmount} from '../../../src/protocol/schema-fragments.js'
import {parseSpecDocument, type SpecFormat, SpecProblems} from '../../../src/protocol/spec-loader.js'
import {taskSchema} from '../../../src/protocol/task-schema.js'
import {parseTaskSpec} from '../../../src/protocol/task-spec.js'
import {streamSchema} from '../../../src/stream/schema.js'
import {parseStreamSpec} from '../../../src/stream/spec.js'

const format = (schema: object): SpecFormat => ({what: 'test spec', schema, invalidHint: 'see the schema', mappingHint: 'a mapping'})
const toy = format({
  type: 'object',
  additionalProperties: false,
  properties: {
    wait: duration,
    fee: amount,
    price: positiveAmount,
    who: {type: 'object', anyOf: [{required: ['name']}, {required: ['id']}], properties: {name: {type: 'string'}, id: {type: 'integer'}}},
  },
})

function errorOf(fn: () => unknown): {message: string; code: string; hint?: string; details?: {errors: string[]}} {
  try {
    fn()
  } catch (error) {
    return error as {message: string; code: string}
  }
  throw new Error('accepted')
}

describe('parseSpecDocument', () => {
  it('returns the document and the line of any field', () => {
    const doc = parseSpecDocument('wait: 5m\nwho:\n  name: x\n', toy, 'a.yaml')
    expect(doc.document).toEqual({wait: '5m', who: {name: 'x'}})
    expect(doc.lineOf(['who', 'name'])).toBe(3)
  })

  it('says one thing per field, in the file order, in one INVALID_SPEC error', () => {
    const error = errorOf(() => parseSpecDocument('price: 0\nwait: 0\nfee: -1\nwho: {}\nextra: 1\n', toy, 'a.yaml'))
    expect(error.code).toBe('INVALID_SPEC')
    expect(error.hint).toBe('see the schema')
    expect(error.details!.errors).toEqual([
      'a.yaml:1: price must be > 0',
      'a.yaml:2: wait must be >= 1', // not also "must be string" from the other branch
      'a.yaml:3: fee must be >= 0',
      'a.yaml:4: who needs either "name" or "id"',
      'a.yaml:5: unknown field "extra"',
    ])
    expect(error.message).toBe(`The test spec is not valid:\n  ${error.details!.errors.join('\n  ')}`)
  })

  it('names a bad duration or amount string in words', () => {
    expect(errorOf(() => parseSpecDocument('wait: soon\nfee: "1,5"\n', toy, 'a.yaml')).details!.errors).toEqual([
      'a.yaml:1: wait is not a duration (use seconds, or e.g. "90s", "15m", "2h")',
      'a.yaml:2: fee is not an oGPU amount (use a decimal string, e.g. "12.5")',
    ])
  })

  it('refuses a document that is not a mapping', () => {
    expect(errorOf(() => parseSpecDocument('- a\n', toy, 'a.yaml'))).toMatchObject({code: 'INVALID_SPEC', message: 'a.yaml: a test spec is a YAML mapping (key: value lines).', hint: 'a mapping'})
  })
})

describe('SpecProblems', () => {
  it('collects problems and amounts at their lines, then throws them as one error', () => {
    const doc = parseSpecDocument('fee: "0"\nprice: "0"\n', toy, 'a.yaml')
    const problems = new SpecProblems(doc, 'test spec')
    expect(problems.amount(['fee'], doc.document.fee, {allowZero: true})).toBe(0n)
    expect(problems.amount(['price'], doc.document.price)).toBe(0n)
    expect(problems.amount(['missing'], undefined, {fallback: '2'})).toBe(2n * 10n ** 18n)
    expect(() => problems.throwIfAny()).toThrow('The test spec is not valid:\n  a.yaml:2: price must be greater than zero.')
    expect(() => new SpecProblems(doc, 'test spec').throwIfAny()).not.toThrow()
  })
})

describe('task and stream specs share their fragments', () => {
  it('use one duration and one amount rule', () => {
    expect(taskSchema.properties.instructions.properties.checkpointWindow.oneOf).toBe(duration.oneOf)
    expect(streamSchema.properties.maxDowntime.oneOf).toBe(duration.oneOf)
    expect(taskSchema.properties.payment.properties.councilFeePerVote.oneOf).toBe(amount.oneOf)
    expect(streamSchema.properties.deposit.oneOf).toBe(amount.oneOf)
    expect(taskSchema.properties.payment.properties.maxPrice.oneOf).toBe(positiveAmount.oneOf)
    expect(streamSchema.properties.collateral.oneOf).toBe(positiveAmount.oneOf)
  })

  const task = (payment: string) => `version: 1
kind: batch
model: {name: tiny, sha256: ${'ab'.repeat(32)}}
data: {uri: ./items.jsonl}
instructions: {maxTokens: 8}
payment: {${payment}}
`
  const stream = (extra: string) => `version: 1
kind: stream
model: {name: tiny, sha256: ${'ab'.repeat(32)}}
prices: {generated: "0.02", verified: "0.005"}
deposit: "50"
${extra}`

  it('take a zero fee as a number or a string, and refuse a zero collateral either way', () => {
    expect(parseTaskSpec(task('maxPrice: "10", councilFeePerVote: 0')).spec.payment.councilFeePerVote).toBe(0n)
    expect(parseTaskSpec(task('maxPrice: "10", councilFeePerVote: "0"')).spec.payment.councilFeePerVote).toBe(0n)
    expect(errorOf(() => parseTaskSpec(task('maxPrice: "10", collateral: 0'), {path: 't.yaml'})).message).toContain('t.yaml:6: payment.collateral must be > 0')
    expect(errorOf(() => parseStreamSpec(stream('collateral: 0\n'), {path: 's.yaml'})).message).toContain('s.yaml:6: collateral must be > 0')
    expect(parseStreamSpec(stream('disputes: {bond: 0}\n')).spec.disputes.bond).toBe(0n)
  })

  it('report a task amount the parser refuses at its line, like a stream amount', () => {
    const error = errorOf(() => parseTaskSpec(task('maxPrice: "0"'), {path: 't.yaml'}))
    expect(error).toMatchObject({code: 'INVALID_SPEC', details: {errors: ['t.yaml:6: payment.maxPrice must be greater than zero.']}})
  })
})

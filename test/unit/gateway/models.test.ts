import {describe, expect, it} from 'vitest'

import {GatewayModels} from '../../../src/gateway/models.js'
import {HttpStatusError} from '../../../src/http/index.js'

const stream = {id: 7n, modelHash: `0x${'AB'.repeat(32)}`, createdAt: 1_700_000_000, client: '0x00000000000000000000000000000000000000c1'}

describe('the gateway\'s model ids', () => {
  it('lists the terms\' model name first and ogpu-stream-N as its alias, and finds either (or the sha256)', () => {
    const m = new GatewayModels(stream, 'tinyllama')
    expect(m.entries.map((e) => [e.id, e.aliases])).toEqual([
      ['tinyllama', ['ogpu-stream-7']],
      ['ogpu-stream-7', ['tinyllama']],
    ])
    expect(m.entries[0]).toMatchObject({object: 'model', created: 1_700_000_000, owned_by: stream.client, sha256: 'ab'.repeat(32)})
    expect(m.find('ogpu-stream-7')?.id).toBe('ogpu-stream-7')
    expect(m.find(`0x${'ab'.repeat(32)}`)?.id).toBe('tinyllama')
    expect(m.resolve('tinyllama')).toBe('tinyllama')
    expect(m.resolve(undefined)).toBe('tinyllama')
  })

  it('keeps only the alias when the terms cannot be read', () => {
    const m = new GatewayModels(stream, null)
    expect(m.entries.map((e) => e.id)).toEqual(['ogpu-stream-7'])
    expect(m.resolve(null)).toBe('ogpu-stream-7')
  })

  it('refuses any other model with 404 model_not_found, naming the ids it serves', () => {
    const m = new GatewayModels(stream, 'tinyllama')
    let error: unknown
    try {
      m.resolve('gpt-4o')
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(HttpStatusError)
    expect(error).toMatchObject({status: 404, code: 'model_not_found'})
    expect((error as Error).message).toContain("'tinyllama' and 'ogpu-stream-7'")
    expect(() => m.resolve(42)).toThrow('model must be a string.')
  })
})

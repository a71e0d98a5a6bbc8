import {describe, expect, it} from 'vitest'

import {ByteWriter, encodeQ8_0, toFloat16, writeMeta} from '../../../src/gpu/gguf-encoding.js'

const hex = (w: ByteWriter) => w.toBuffer().toString('hex')
/** The key as GGUF writes it: u64 length, then the bytes. */
const key = (k: string) => Buffer.concat([Buffer.from([k.length, 0, 0, 0, 0, 0, 0, 0]), Buffer.from(k)]).toString('hex')

describe('GGUF encoding', () => {
  it('writes each metadata type as key, type tag, value (arrays: item type, length, items), little-endian', () => {
    const cases: Array<[Parameters<typeof writeMeta>[2], string]> = [
      [{type: 'uint32', value: 7}, '04000000' + '07000000'],
      [{type: 'int32', value: -2}, '05000000' + 'feffffff'],
      [{type: 'float32', value: 1}, '06000000' + '0000803f'],
      [{type: 'bool', value: true}, '07000000' + '01'],
      [{type: 'string', value: 'ab'}, '08000000' + '0200000000000000' + '6162'],
      [{type: 'array', itemType: 'int32', value: [1, -1]}, '09000000' + '05000000' + '0200000000000000' + '01000000' + 'ffffffff'],
      [{type: 'array', itemType: 'string', value: ['x']}, '09000000' + '08000000' + '0100000000000000' + '0100000000000000' + '78'],
    ]
    for (const [meta, expected] of cases) {
      const w = new ByteWriter()
      writeMeta(w, 'k', meta)
      expect(hex(w)).toBe(key('k') + expected)
      expect(w.length).toBe(w.toBuffer().length)
    }
  })

  it('rounds to F16 to nearest even, saturating to infinity', () => {
    expect([0, 1, -2.5, 65504, 1e6, 1e-7].map(toFloat16)).toEqual([0, 0x3c00, 0xc100, 0x7bff, 0x7c00, 2])
  })

  it('encodes Q8_0 blocks as an F16 scale and 32 int8s', () => {
    const values = new Float32Array(32).map((_, i) => (i - 16) / 16)
    const out = encodeQ8_0(values, 32)
    expect(out.length).toBe(34)
    expect(out.readUInt16LE(0)).toBe(toFloat16(1 / 127))
    expect(out.readInt8(2)).toBe(-127)
    expect(out.readInt8(2 + 16)).toBe(0)
  })
})

/**
 * GGUF v3 encoding, as much as the synthetic models (./synthetic.ts) need: typed metadata values, a little-endian
 * byte writer, and the F16 and Q8_0 number formats. (Reading GGUF is ./gguf.ts.)
 */

export const GGUF_TYPE = {uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9} as const
export const GGML_TYPE = {f32: 0, q8_0: 8} as const
export const ALIGNMENT = 32

type ScalarType = 'uint32' | 'int32' | 'float32' | 'bool' | 'string'

export type MetaValue =
  | {type: 'uint32' | 'int32' | 'float32'; value: number}
  | {type: 'bool'; value: boolean}
  | {type: 'string'; value: string}
  | {type: 'array'; itemType: 'string'; value: string[]}
  | {type: 'array'; itemType: 'float32' | 'int32'; value: number[]}

export class ByteWriter {
  private chunks: Buffer[] = []
  length = 0
  push(buf: Buffer): void {
    this.chunks.push(buf)
    this.length += buf.length
  }
  u32(v: number): void {
    this.fixed(4, (b) => b.writeUInt32LE(v))
  }
  i32(v: number): void {
    this.fixed(4, (b) => b.writeInt32LE(v))
  }
  f32(v: number): void {
    this.fixed(4, (b) => b.writeFloatLE(v))
  }
  u64(v: number | bigint): void {
    this.fixed(8, (b) => b.writeBigUInt64LE(BigInt(v)))
  }
  str(s: string): void {
    const bytes = Buffer.from(s, 'utf8')
    this.u64(bytes.length)
    this.push(bytes)
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.chunks)
  }
  private fixed(size: number, write: (b: Buffer) => void): void {
    const b = Buffer.alloc(size)
    write(b)
    this.push(b)
  }
}

/** A metadata key-value pair: the key, the value's GGUF type, then the value (an array: item type, length, items). */
export function writeMeta(w: ByteWriter, key: string, meta: MetaValue): void {
  w.str(key)
  w.u32(GGUF_TYPE[meta.type])
  if (meta.type !== 'array') return writeScalar(w, meta.type, meta.value)
  w.u32(GGUF_TYPE[meta.itemType])
  w.u64(meta.value.length)
  for (const v of meta.value) writeScalar(w, meta.itemType, v)
}

function writeScalar(w: ByteWriter, type: ScalarType, value: number | boolean | string): void {
  if (type === 'uint32') w.u32(value as number)
  else if (type === 'int32') w.i32(value as number)
  else if (type === 'float32') w.f32(value as number)
  else if (type === 'bool') w.push(Buffer.from([value ? 1 : 0]))
  else w.str(value as string)
}

/** IEEE 754 half precision from a float, rounding to nearest even. */
export function toFloat16(value: number): number {
  const f32 = new Float32Array(1)
  const u32 = new Uint32Array(f32.buffer)
  f32[0] = value
  const x = u32[0]!
  const sign = (x >>> 16) & 0x8000
  let exp = ((x >>> 23) & 0xff) - 127 + 15
  let mant = x & 0x7fffff
  if (exp >= 31) return sign | 0x7c00
  if (exp <= 0) {
    if (exp < -10) return sign
    mant |= 0x800000
    const shift = 14 - exp
    let half = mant >>> shift
    const rem = mant & ((1 << shift) - 1)
    const mid = 1 << (shift - 1)
    if (rem > mid || (rem === mid && half & 1)) half++
    return sign | half
  }
  let half = (exp << 10) | (mant >>> 13)
  const rem = mant & 0x1fff
  if (rem > 0x1000 || (rem === 0x1000 && half & 1)) half++
  if (((half >>> 10) & 0x1f) === 31) {
    exp = 31
    mant = 0
    return sign | 0x7c00
  }
  return sign | half
}

/** Q8_0 blocks of the first `count` values (a multiple of 32): per block of 32, an F16 scale then 32 int8s. */
export function encodeQ8_0(values: Float32Array, count: number): Buffer {
  const blocks = count / 32
  const out = Buffer.alloc(blocks * 34)
  for (let b = 0; b < blocks; b++) {
    let amax = 0
    for (let i = 0; i < 32; i++) amax = Math.max(amax, Math.abs(values[b * 32 + i]!))
    const d = amax / 127
    const id = d ? 1 / d : 0
    out.writeUInt16LE(toFloat16(d), b * 34)
    for (let i = 0; i < 32; i++) out.writeInt8(Math.max(-127, Math.min(127, Math.round(values[b * 32 + i]! * id))), b * 34 + 2 + i)
  }
  return out
}

/**
 * Synthetic models: writes small GGUF v3 files for the llama architecture with seeded random weights and a
 * byte-fallback SentencePiece-style vocabulary, so that the demo (`npm run demo`), the tests and the benchmarks run on
 * real GGUF files without downloading weights (test/fixtures/gguf-writer.ts re-exports this module).
 *
 * The weights are drawn from a deterministic PRNG (mulberry32, seeded per tensor from the preset's seed and the
 * tensor name), so the same preset always produces byte-identical files. They are scaled so the model is not
 * degenerate: attention and FFN contributions are of the same order as the token embedding (the output depends on
 * the context, not only on the last token), and the output projection gives logits with a standard deviation of a
 * few units, so greedy decoding walks through many distinct tokens and the top-1/top-2 logit gap is usually far
 * larger than the verifier's tolerance (a substituted token fails by whole logits).
 */
import {randomBytes} from 'node:crypto'
import {closeSync, existsSync, mkdirSync, openSync, rmSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import {renameDurable} from '../storage/index.js'
import {ALIGNMENT, ByteWriter, encodeQ8_0, GGML_TYPE, type MetaValue, writeMeta} from './gguf-encoding.js'
import {buildVocabulary, SPECIAL_IDS} from './synthetic-vocab.js'

/** Bump when the output of the writer changes, so cached files are regenerated. */
export const SYNTHETIC_VERSION = 4
/** The same number under the name the test fixtures know it by. */
export const FIXTURE_VERSION = SYNTHETIC_VERSION

export type WeightType = 'f32' | 'q8_0'

export interface LlamaModelSpec {
  /** general.name */
  name: string
  vocabSize: number
  /** Embedding size (llama.embedding_length). */
  dim: number
  layers: number
  heads: number
  headsKv: number
  /** llama.feed_forward_length */
  ffn: number
  /** llama.context_length (the trained context). */
  contextLength: number
  /** Type of the 2-D weight tensors (norms are always F32). */
  weightType: WeightType
  seed: number
  /** Standard deviation of the logits for a unit-RMS final hidden state. */
  logitStd: number
  /**
   * Scale of the residual branches (attention output and FFN down projections) relative to a unit-variance
   * contribution. Below 1 keeps the random network from being chaotic, so tiny float differences between batch
   * shapes stay tiny instead of being amplified layer after layer (trained models behave like that too).
   */
  residualScale: number
  /**
   * Multiplier of the end-of-sequence row of the output projection: above 1, greedy decoding reaches </s> after a
   * few dozen tokens on many prompts, so the EOS path is exercised.
   */
  eosBoost: number
}

export type GgufPreset = 'tiny' | 'small' | 'bench'

export const PRESETS: Record<GgufPreset, LlamaModelSpec> = {
  // ~150k parameters, F32: loads in milliseconds, for tests.
  tiny: {
    name: 'ogpu-tiny', vocabSize: 512, dim: 64, layers: 2, heads: 4, headsKv: 4, ffn: 128,
    contextLength: 1024, weightType: 'f32', seed: 1, logitStd: 4, residualScale: 0.5, eosBoost: 1.5,
  },
  // ~3.7M parameters, Q8_0: quantized like real models, fast enough for tests (decoding and batched prefill round
  // differently on it, as on the benchmark model).
  small: {
    name: 'ogpu-small', vocabSize: 2048, dim: 256, layers: 4, heads: 4, headsKv: 4, ffn: 512,
    contextLength: 1024, weightType: 'q8_0', seed: 3, logitStd: 4, residualScale: 0.5, eosBoost: 1.2,
  },
  // ~134M parameters, Q8_0: for benchmarks.
  bench: {
    name: 'ogpu-bench', vocabSize: 32_000, dim: 768, layers: 12, heads: 12, headsKv: 12, ffn: 2048,
    contextLength: 2048, weightType: 'q8_0', seed: 2, logitStd: 4, residualScale: 0.5, eosBoost: 1,
  },
}

// ---------------------------------------------------------------------------------------------------------------
// Deterministic random numbers

function mulberry32(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

function hashString(text: string, seed: number): number {
  let h = (2_166_136_261 ^ seed) >>> 0
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16_777_619) >>> 0
  return h
}

// ---------------------------------------------------------------------------------------------------------------
// Tensors

interface TensorPlan {
  name: string
  /** ggml order: dims[0] is the contiguous (row) dimension. */
  dims: number[]
  type: WeightType
  /** Uniform random weights with this standard deviation, or a constant when `constant` is set. */
  std: number
  constant?: number
  /** Multiplies the std of one row (index along dims[1]). */
  rowBoost?: {row: number; factor: number}
}

const tensorBytes = (t: TensorPlan): number => {
  const n = t.dims.reduce((a, b) => a * b, 1)
  return t.type === 'f32' ? n * 4 : (n / 32) * 34
}

function planTensors(spec: LlamaModelSpec): TensorPlan[] {
  const {dim, vocabSize, ffn, layers, heads, headsKv} = spec
  const kvDim = (dim / heads) * headsKv
  const w = spec.weightType
  const tensors: TensorPlan[] = [
    {name: 'token_embd.weight', dims: [dim, vocabSize], type: w, std: 1},
    {name: 'output_norm.weight', dims: [dim], type: 'f32', std: 0, constant: 1},
    {name: 'output.weight', dims: [dim, vocabSize], type: w, std: spec.logitStd / Math.sqrt(dim), rowBoost: {row: SPECIAL_IDS.eos, factor: spec.eosBoost}},
  ]
  const s = 1 / Math.sqrt(dim)
  for (let i = 0; i < layers; i++) {
    tensors.push(
      {name: `blk.${i}.attn_norm.weight`, dims: [dim], type: 'f32', std: 0, constant: 1},
      {name: `blk.${i}.attn_q.weight`, dims: [dim, dim], type: w, std: 1.4 * s},
      {name: `blk.${i}.attn_k.weight`, dims: [dim, kvDim], type: w, std: 1.4 * s},
      {name: `blk.${i}.attn_v.weight`, dims: [dim, kvDim], type: w, std: s},
      {name: `blk.${i}.attn_output.weight`, dims: [dim, dim], type: w, std: spec.residualScale * s},
      {name: `blk.${i}.ffn_norm.weight`, dims: [dim], type: 'f32', std: 0, constant: 1},
      {name: `blk.${i}.ffn_gate.weight`, dims: [dim, ffn], type: w, std: s},
      {name: `blk.${i}.ffn_up.weight`, dims: [dim, ffn], type: w, std: s},
      {name: `blk.${i}.ffn_down.weight`, dims: [ffn, dim], type: w, std: spec.residualScale / Math.sqrt(ffn)},
    )
  }
  return tensors
}

/** Number of parameters of a spec (sum of tensor element counts). */
export function parameterCount(spec: LlamaModelSpec): number {
  return planTensors(spec).reduce((sum, t) => sum + t.dims.reduce((a, b) => a * b, 1), 0)
}

function encodeTensor(fd: number, t: TensorPlan, seed: number): void {
  const rowLength = t.dims[0]!
  const total = t.dims.reduce((a, b) => a * b, 1)
  const rand = mulberry32(hashString(t.name, seed))
  const amplitude = t.std * Math.sqrt(3) // uniform on [-a, a] has std a/sqrt(3)
  const next = (): number => (t.constant === undefined ? (rand() * 2 - 1) * amplitude : t.constant)
  const rowsPerChunk = Math.max(1, Math.floor(65_536 / rowLength))
  const values = new Float32Array(rowsPerChunk * rowLength)
  for (let done = 0; done < total; ) {
    const count = Math.min(values.length, total - done)
    for (let i = 0; i < count; i++) values[i] = next()
    if (t.rowBoost) {
      const start = t.rowBoost.row * rowLength - done
      for (let i = Math.max(0, start); i < Math.min(count, start + rowLength); i++) values[i]! *= t.rowBoost.factor
    }
    const out = t.type === 'f32' ? Buffer.from(values.buffer, values.byteOffset, count * 4) : encodeQ8_0(values, count)
    writeSync(fd, out)
    done += count
  }
}

/** Writes a GGUF v3 file for `spec` at `path` (overwriting it). Synchronous and deterministic. */
export function writeLlamaGguf(path: string, spec: LlamaModelSpec): void {
  if (spec.dim % spec.heads !== 0) throw new Error('dim must be a multiple of heads')
  if (spec.weightType === 'q8_0' && (spec.dim % 32 !== 0 || spec.ffn % 32 !== 0)) throw new Error('Q8_0 needs dims that are multiples of 32')
  const vocab = buildVocabulary(spec.vocabSize)
  const tensors = planTensors(spec)
  const meta: Array<[string, MetaValue]> = [
    ['general.architecture', {type: 'string', value: 'llama'}],
    ['general.name', {type: 'string', value: spec.name}],
    ['general.file_type', {type: 'uint32', value: spec.weightType === 'f32' ? 0 : 7}],
    ['general.quantization_version', {type: 'uint32', value: 2}],
    ['general.alignment', {type: 'uint32', value: ALIGNMENT}],
    ['llama.context_length', {type: 'uint32', value: spec.contextLength}],
    ['llama.embedding_length', {type: 'uint32', value: spec.dim}],
    ['llama.block_count', {type: 'uint32', value: spec.layers}],
    ['llama.feed_forward_length', {type: 'uint32', value: spec.ffn}],
    ['llama.attention.head_count', {type: 'uint32', value: spec.heads}],
    ['llama.attention.head_count_kv', {type: 'uint32', value: spec.headsKv}],
    ['llama.rope.dimension_count', {type: 'uint32', value: spec.dim / spec.heads}],
    ['llama.rope.freq_base', {type: 'float32', value: 10_000}],
    ['llama.attention.layer_norm_rms_epsilon', {type: 'float32', value: 1e-5}],
    ['llama.vocab_size', {type: 'uint32', value: spec.vocabSize}],
    ['tokenizer.ggml.model', {type: 'string', value: 'llama'}],
    ['tokenizer.ggml.tokens', {type: 'array', itemType: 'string', value: vocab.tokens}],
    ['tokenizer.ggml.scores', {type: 'array', itemType: 'float32', value: vocab.scores}],
    ['tokenizer.ggml.token_type', {type: 'array', itemType: 'int32', value: vocab.types}],
    ['tokenizer.ggml.unknown_token_id', {type: 'uint32', value: SPECIAL_IDS.unk}],
    ['tokenizer.ggml.bos_token_id', {type: 'uint32', value: SPECIAL_IDS.bos}],
    ['tokenizer.ggml.eos_token_id', {type: 'uint32', value: SPECIAL_IDS.eos}],
    ['tokenizer.ggml.add_bos_token', {type: 'bool', value: true}],
    ['tokenizer.ggml.add_eos_token', {type: 'bool', value: false}],
  ]
  const header = new ByteWriter()
  header.push(Buffer.from('GGUF', 'ascii'))
  header.u32(3)
  header.u64(tensors.length)
  header.u64(meta.length)
  for (const [key, value] of meta) writeMeta(header, key, value)
  let offset = 0
  for (const t of tensors) {
    header.str(t.name)
    header.u32(t.dims.length)
    for (const d of t.dims) header.u64(d)
    header.u32(GGML_TYPE[t.type])
    header.u64(offset)
    offset += Math.ceil(tensorBytes(t) / ALIGNMENT) * ALIGNMENT
  }
  const headerBuf = header.toBuffer()
  const fd = openSync(path, 'w')
  try {
    writeSync(fd, headerBuf)
    writeSync(fd, Buffer.alloc((ALIGNMENT - (headerBuf.length % ALIGNMENT)) % ALIGNMENT))
    for (const t of tensors) {
      encodeTensor(fd, t, spec.seed)
      const pad = (ALIGNMENT - (tensorBytes(t) % ALIGNMENT)) % ALIGNMENT
      if (pad) writeSync(fd, Buffer.alloc(pad))
    }
  } finally {
    closeSync(fd)
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Cache

/**
 * Returns the path of the preset's GGUF file in `dir` (`<preset>-v<SYNTHETIC_VERSION>.gguf`), writing it once.
 * Safe to call from parallel processes: each writes to its own temp name and renames.
 */
export function ensureSyntheticModel(dir: string, preset: GgufPreset): string {
  const path = join(dir, `${preset}-v${SYNTHETIC_VERSION}.gguf`)
  if (existsSync(path)) return path
  mkdirSync(dir, {recursive: true})
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    writeLlamaGguf(tmp, PRESETS[preset])
    renameDurable(tmp, path)
  } finally {
    rmSync(tmp, {force: true})
  }
  return path
}

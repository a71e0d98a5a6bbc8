/**
 * Reading and validating GGUF headers (no weights are loaded): what `ogpu model inspect` shows and what the model
 * store checks before it accepts a file.
 */
import {open, stat} from 'node:fs/promises'

import type {GgufFileInfo} from 'node-llama-cpp'

import {UserError} from '../errors/index.js'

/** The facts of a GGUF file that matter to a provider, from its header. */
export interface GgufSummary {
  /** GGUF format version (2 or 3). */
  ggufVersion: number
  /** general.architecture, e.g. `llama`. */
  architecture: string
  /** general.name, when set. */
  name?: string
  /** Total number of weights (sum of the tensors' element counts). */
  parameters: number
  /** The quantization of the file (general.file_type), e.g. `Q8_0`, `Q4_K_M`, `F16`; `unknown` when absent. */
  fileType: string
  /** The trained context length, in tokens. */
  contextLength?: number
  /** Number of transformer blocks. */
  layers?: number
  embeddingSize?: number
  feedForwardSize?: number
  headCount?: number
  headCountKv?: number
  vocabSize?: number
  /** tokenizer.ggml.model, e.g. `llama` (SentencePiece) or `gpt2` (BPE). */
  tokenizer?: string
  bosTokenId?: number
  eosTokenId?: number
  /** Whether the file carries a chat template (tokenizer.chat_template). */
  hasChatTemplate: boolean
  tensorCount: number
  /** Size of the file in bytes. */
  sizeBytes: number
}

export const GGUF_MAGIC = Buffer.from('GGUF', 'ascii')

// node-llama-cpp is imported lazily (it takes most of a second to load): `ogpu model list` does not need it.

/** [block size, bytes per block] of ggml tensor types (by GGUF type id), to check that a file holds all its tensor data. */
const GGML_TYPE_SIZES: Partial<Record<number, [number, number]>> = {
  0: [1, 4], 1: [1, 2], 30: [1, 2], 28: [1, 8], 24: [1, 1], 25: [1, 2], 26: [1, 4], 27: [1, 8], // F32 F16 BF16 F64 I8 I16 I32 I64
  2: [32, 18], 3: [32, 20], 6: [32, 22], 7: [32, 24], 8: [32, 34], 9: [32, 36], 20: [32, 18], // Q4_0 Q4_1 Q5_0 Q5_1 Q8_0 Q8_1 IQ4_NL
  10: [256, 84], 11: [256, 110], 12: [256, 144], 13: [256, 176], 14: [256, 210], 15: [256, 292], // Q2_K..Q8_K
  16: [256, 66], 17: [256, 74], 18: [256, 98], 19: [256, 50], 21: [256, 110], 22: [256, 82], 23: [256, 136], 29: [256, 56], // IQ*
  34: [256, 54], 35: [256, 66], // TQ1_0 TQ2_0
}

/** general.file_type names (llama.cpp's LLAMA_FTYPE_*). */
const FILE_TYPES: Record<number, string> = {
  0: 'F32', 1: 'F16', 2: 'Q4_0', 3: 'Q4_1', 4: 'Q4_1_SOME_F16', 7: 'Q8_0', 8: 'Q5_0', 9: 'Q5_1', 10: 'Q2_K', 11: 'Q3_K_S',
  12: 'Q3_K_M', 13: 'Q3_K_L', 14: 'Q4_K_S', 15: 'Q4_K_M', 16: 'Q5_K_S', 17: 'Q5_K_M', 18: 'Q6_K', 19: 'IQ2_XXS', 20: 'IQ2_XS',
  21: 'Q2_K_S', 22: 'IQ3_XS', 23: 'IQ3_XXS', 24: 'IQ1_S', 25: 'IQ4_NL', 26: 'IQ3_S', 27: 'IQ3_M', 28: 'IQ2_S', 29: 'IQ2_M',
  30: 'IQ4_XS', 31: 'IQ1_M', 32: 'BF16', 36: 'TQ1_0', 37: 'TQ2_0', 38: 'MXFP4_MOE',
}

/** 15 → `Q4_K_M`, 0 → `F32`. */
export function fileTypeName(fileType: number | undefined): string {
  if (fileType === undefined) return 'unknown'
  return FILE_TYPES[fileType] ?? `type ${fileType}`
}

/** Throws a UserError unless the file exists, is a regular file, and starts with the GGUF magic. */
export async function assertGgufMagic(path: string, label = path): Promise<void> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new UserError(`No such file: ${label}`, {code: 'FILE_NOT_FOUND', hint: 'Check the path.', details: {path}})
    if (code === 'EISDIR') throw new UserError(`${label} is a directory, not a GGUF file.`, {code: 'NOT_GGUF', hint: 'Give the path of a .gguf file.', details: {path}})
    throw new UserError(`Cannot read ${label}: ${(err as Error).message}`, {code: 'FILE_UNREADABLE', hint: 'Check the file permissions.', details: {path}, cause: err})
  }
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw new UserError(`${label} is not a regular file.`, {code: 'NOT_GGUF', hint: 'Give the path of a .gguf file.', details: {path}})
    const {size} = info
    const buf = Buffer.alloc(24)
    const {bytesRead} = size >= 4 ? await handle.read(buf, 0, 24, 0) : {bytesRead: 0}
    if (bytesRead < 4 || !buf.subarray(0, 4).equals(GGUF_MAGIC))
      throw new UserError(`${label} is not a GGUF file (it does not start with the GGUF magic bytes).`, {
        code: 'NOT_GGUF',
        hint: 'ogpu runs llama.cpp models in GGUF format: download a .gguf file (e.g. from Hugging Face) or convert the model with llama.cpp\'s convert_hf_to_gguf.py.',
        details: {path},
      })
    // The counts must fit the file: a corrupt header would otherwise make the parser loop for a very long time.
    const version = bytesRead >= 8 ? buf.readUInt32LE(4) : 0
    const tensors = bytesRead >= 16 ? buf.readBigUInt64LE(8) : -1n
    const kvs = bytesRead >= 24 ? buf.readBigUInt64LE(16) : -1n
    if (version < 2 || version > 3 || tensors < 0n || kvs < 0n || tensors * 24n + kvs * 13n > BigInt(size))
      throw new UserError(`${label} has a corrupt or unsupported GGUF header (version ${version}, ${tensors} tensors, ${kvs} metadata keys in ${size} bytes).`, {
        code: 'BAD_GGUF',
        hint: 'The file may be truncated or damaged: download it again.',
        details: {path},
      })
  } finally {
    await handle.close()
  }
}

/**
 * Reads and validates a GGUF file's header: magic, version, metadata and tensor infos, and that the file is long
 * enough to hold every tensor (a truncated download fails here). Throws a UserError for anything wrong.
 */
export async function readGgufSummary(path: string, label = path): Promise<GgufSummary> {
  await assertGgufMagic(path, label)
  const {size} = await stat(path)
  let info: GgufFileInfo
  try {
    const {readGgufFileInfo} = await import('node-llama-cpp')
    info = await readGgufFileInfo(path, {sourceType: 'filesystem', logWarnings: false, spliceSplitFiles: false, ignoreKeys: ['tokenizer.ggml.merges']})
  } catch (err) {
    throw new UserError(`${label} has a corrupt or unsupported GGUF header: ${(err as Error).message}`, {
      code: 'BAD_GGUF',
      hint: 'The file may be truncated or damaged: download it again.',
      details: {path},
      cause: err,
    })
  }
  if (info.infoEndOffset !== undefined && info.infoEndOffset > size)
    throw new UserError(`${label} is truncated: its header runs past the end of the file.`, {
      code: 'BAD_GGUF',
      hint: 'Download the file again (an interrupted download leaves a short file).',
      details: {path},
    })
  const tensors = info.tensorInfo ?? []
  let parameters = 0
  let dataEnd = 0
  for (const t of tensors) {
    const elements = t.dimensions.reduce<number>((a, d) => a * Number(d), 1)
    parameters += elements
    const typeSize = GGML_TYPE_SIZES[t.ggmlType]
    if (typeSize) dataEnd = Math.max(dataEnd, Number(t.fileOffset) + Math.ceil(elements / typeSize[0]) * typeSize[1])
  }
  if (dataEnd > size)
    throw new UserError(`${label} is truncated: its tensors need ${dataEnd} bytes but the file has ${size}.`, {
      code: 'BAD_GGUF',
      hint: 'Download the file again (an interrupted download leaves a short file).',
      details: {path, expectedBytes: dataEnd, actualBytes: size},
    })
  const md = info.metadata as unknown as Record<string, Record<string, unknown> | undefined>
  const general = md.general ?? {}
  const architecture = String(general.architecture ?? 'unknown')
  const arch = (info.architectureMetadata ?? {}) as Record<string, unknown>
  const attention = (arch.attention ?? {}) as Record<string, unknown>
  const tokenizer = (md.tokenizer ?? {}) as Record<string, unknown>
  const ggml = (tokenizer.ggml ?? {}) as Record<string, unknown>
  const num = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined)
  const headCount = Array.isArray(attention.head_count) ? num(attention.head_count[0]) : num(attention.head_count)
  const headCountKv = Array.isArray(attention.head_count_kv) ? num(attention.head_count_kv[0]) : num(attention.head_count_kv)
  const tokens = ggml.tokens
  const vocabSize = num(arch.vocab_size) ?? (Array.isArray(tokens) ? tokens.length : undefined)
  const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T
  return defined({
    ggufVersion: info.version,
    architecture,
    name: typeof general.name === 'string' ? general.name : undefined,
    parameters,
    fileType: fileTypeName(num(general.file_type)),
    contextLength: num(arch.context_length),
    layers: num(arch.block_count),
    embeddingSize: num(arch.embedding_length),
    feedForwardSize: Array.isArray(arch.feed_forward_length) ? num(arch.feed_forward_length[0]) : num(arch.feed_forward_length),
    headCount,
    headCountKv,
    vocabSize,
    tokenizer: typeof ggml.model === 'string' ? ggml.model : undefined,
    bosTokenId: num(ggml.bos_token_id),
    eosTokenId: num(ggml.eos_token_id),
    hasChatTemplate: typeof tokenizer.chat_template === 'string',
    tensorCount: Number(info.tensorCount),
    sizeBytes: size,
  })
}

/** The byte-fallback SentencePiece-style vocabulary of the synthetic models (./synthetic.ts). */

export const TOKEN_TYPE = {normal: 1, unknown: 2, control: 3, userDefined: 4, unused: 5, byte: 6} as const
export const SPECIAL_IDS = {unk: 0, bos: 1, eos: 2} as const

const SPACE = '\u2581'
const LOWER = 'abcdefghijklmnopqrstuvwxyz'
const UPPER = LOWER.toUpperCase()
const COMMON_BIGRAMS = ['th', 'he', 'in', 'er', 'an', 're', 'on', 'at', 'en', 'nd', 'ti', 'es', 'or', 'te', 'of', 'ed', 'is', 'it', 'al', 'ar', 'st', 'to', 'nt', 'ng', 'se', 'ha', 'as', 'ou', 'io', 'le', 've', 'co', 'me', 'de', 'hi', 'ri', 'ro', 'ic', 'ne', 'ea', 'ra', 'ce']
const COMMON_WORDS = ['the', 'and', 'of', 'to', 'in', 'is', 'it', 'that', 'for', 'on', 'with', 'as', 'was', 'he', 'at', 'by', 'this', 'from', 'or', 'are', 'an', 'be', 'one', 'all', 'there', 'her', 'have', 'not', 'but', 'they', 'his', 'we', 'what', 'can', 'out', 'other', 'were', 'gpu', 'model', 'token', 'hello', 'world']

export interface Vocabulary {
  tokens: string[]
  scores: number[]
  types: number[]
}

/**
 * A SentencePiece-style vocabulary: <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, then merged pieces, each
 * reachable by merging two shorter pieces (single characters, "▁x", letter pairs, common words, triples, ...).
 * Scores decrease with the piece's index, so earlier (shorter, commoner) merges win.
 */
export function buildVocabulary(size: number): Vocabulary {
  if (size < 300) throw new Error(`vocabulary size ${size} is too small (minimum 300)`)
  const tokens: string[] = ['<unk>', '<s>', '</s>']
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control]
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`)
    types.push(TOKEN_TYPE.byte)
  }
  const seen = new Set(tokens)
  const pieces: string[] = []
  const add = (piece: string): boolean => {
    if (tokens.length + pieces.length >= size) return false
    if (seen.has(piece)) return true
    const reachable = [...piece].length === 1 || [...Array(piece.length - 1).keys()].some((i) => seen.has(piece.slice(0, i + 1)) && seen.has(piece.slice(i + 1)))
    if (!reachable) return true
    seen.add(piece)
    pieces.push(piece)
    return true
  }
  const singles = [SPACE, ...LOWER, ...UPPER, ...'0123456789', ...'.,!?\'"-:;()']
  const plan: Array<() => Iterable<string>> = [
    () => singles,
    () => [...LOWER, ...UPPER].map((c) => SPACE + c),
    () => COMMON_BIGRAMS,
    () => COMMON_BIGRAMS.map((b) => SPACE + b),
    () => COMMON_WORDS.flatMap((w) => [w.slice(0, 3), SPACE + w.slice(0, 3), w, SPACE + w]),
    function* () {
      for (const a of LOWER) for (const b of LOWER) yield a + b
    },
    function* () {
      for (const a of LOWER) for (const b of LOWER) yield SPACE + a + b
    },
    function* () {
      for (const a of LOWER) for (const b of LOWER) for (const c of LOWER) {
        yield a + b + c
        yield SPACE + a + b + c
      }
    },
    function* () {
      for (const a of LOWER) for (const b of LOWER) for (const c of LOWER) for (const d of LOWER) {
        yield a + b + c + d
        yield SPACE + a + b + c + d
      }
    },
  ]
  outer: for (const level of plan) for (const piece of level()) if (!add(piece)) break outer
  const scores = tokens.map(() => 0)
  pieces.forEach((piece, i) => {
    tokens.push(piece)
    types.push(TOKEN_TYPE.normal)
    scores.push(-i)
  })
  if (tokens.length !== size) throw new Error(`could only build ${tokens.length} of ${size} tokens`)
  return {tokens, scores, types}
}

import {canonicalHash} from './canonical.js'
import {MerkleTree, verifyProof} from './merkle.js'

/** Items [first, end) of checkpoint k: itemCount split into `checkpoints` segments, the first itemCount % checkpoints one larger (as TaskMarket._segment). */
export function segmentOf(itemCount: number, checkpoints: number, k: number): {first: number; end: number} {
  const before = (j: number) => j * Math.floor(itemCount / checkpoints) + Math.min(j, itemCount % checkpoints)
  return {first: before(k), end: before(k + 1)}
}

/** The checkpoint an item belongs to. */
export function checkpointOfItem(itemCount: number, checkpoints: number, index: number): number {
  for (let k = 0; k < checkpoints; k++) if (index < segmentOf(itemCount, checkpoints, k).end) return k
  throw new RangeError(`Item ${index} is outside a task of ${itemCount} items.`)
}

/** What an executor produced for one item. Its canonical hash is the leaf of the checkpoint's result tree. */
export interface ItemResult {
  index: number
  id: string
  /** keccak256 of the item's canonical JSON (binds the output to its input). */
  itemHash: string
  completion: string
  /** The generated token ids: what the council verifies by prefill. */
  tokenIds: number[]
  promptTokens: number
  finishReason: 'stop' | 'length'
}

export const resultHash = (result: ItemResult): string => canonicalHash(result)

/** The result tree of one checkpoint: its items' results, leaves bound to their global indices. */
export function resultTree(results: ItemResult[]): MerkleTree {
  const sorted = [...results].sort((a, b) => a.index - b.index)
  sorted.forEach((r, i) => {
    if (r.index !== sorted[0]!.index + i) throw new RangeError(`Results must cover consecutive items; item ${sorted[0]!.index + i} is missing.`)
  })
  return new MerkleTree(sorted.map(resultHash), sorted[0]!.index)
}

export function verifyResult(root: string, result: ItemResult, proof: readonly string[]): boolean {
  return verifyProof(root, result.index, resultHash(result), proof)
}

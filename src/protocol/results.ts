import {AbiCoder, keccak256} from 'ethers'

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

const ABI = AbiCoder.defaultAbiCoder()

/**
 * The items a council member samples from a segment [first, end): `size` distinct indices (all of them when the
 * segment is smaller), derived from the member's seed (`memberSampleSeed` on the market) alone, so anyone can
 * recompute a member's sample. A partial Fisher–Yates shuffle of the segment where draw i swaps position i with
 * position i + (uint256(keccak256(abi.encode(seed, i))) mod (n − i)). Returned in ascending order.
 */
export function sampleIndices(seed: string, first: number, end: number, size: number): number[] {
  if (!/^0x[0-9a-fA-F]{64}$/.test(seed)) throw new RangeError(`The sample seed must be 32 bytes of hex (got ${seed}).`)
  if (!Number.isSafeInteger(first) || !Number.isSafeInteger(end) || first < 0 || end < first) throw new RangeError(`Bad segment [${first}, ${end}).`)
  if (!Number.isSafeInteger(size) || size < 0) throw new RangeError(`Bad sample size ${size}.`)
  const n = end - first
  const take = Math.min(size, n)
  const swapped = new Map<number, number>()
  const at = (i: number) => swapped.get(i) ?? i
  const picked: number[] = []
  for (let i = 0; i < take; i++) {
    const draw = BigInt(keccak256(ABI.encode(['bytes32', 'uint256'], [seed, i])))
    const j = i + Number(draw % BigInt(n - i))
    const value = at(j)
    swapped.set(j, at(i))
    picked.push(first + value)
  }
  return picked.sort((a, b) => a - b)
}

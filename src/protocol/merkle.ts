import {AbiCoder, concat, keccak256} from 'ethers'

/**
 * Merkle trees over indexed payloads, compatible with OpenZeppelin's `MerkleProof` (sorted-pair keccak256) and with
 * its StandardMerkleTree leaf encoding: leaf = keccak256(keccak256(abi.encode(uint256 index, bytes32 payloadHash))).
 * The double hash keeps a leaf from ever equalling an inner node. Binding the index stops a prover from moving an
 * item to another position.
 */

const coder = AbiCoder.defaultAbiCoder()

export function leafHash(index: number, payloadHash: string): string {
  return keccak256(keccak256(coder.encode(['uint256', 'bytes32'], [index, payloadHash])))
}

const hashPair = (a: string, b: string): string => (BigInt(a) < BigInt(b) ? keccak256(concat([a, b])) : keccak256(concat([b, a])))

/** A Merkle tree built once over all leaves; proofs come from its stored layers. */
export class MerkleTree {
  private readonly layers: string[][]

  /**
   * @param payloadHashes the bytes32 hash of each item's payload, in index order
   * @param offset the index of the first payload (a checkpoint's tree covers items offset..offset+n−1). Defaults to 0.
   */
  constructor(
    payloadHashes: readonly string[],
    readonly offset = 0,
  ) {
    if (payloadHashes.length === 0) throw new RangeError('A Merkle tree needs at least one leaf.')
    let layer = payloadHashes.map((h, i) => leafHash(offset + i, h))
    this.layers = [layer]
    while (layer.length > 1) {
      const next: string[] = []
      for (let i = 0; i < layer.length; i += 2) next.push(i + 1 < layer.length ? hashPair(layer[i]!, layer[i + 1]!) : layer[i]!)
      this.layers.push(next)
      layer = next
    }
  }

  get root(): string {
    return this.layers.at(-1)![0]!
  }

  get size(): number {
    return this.layers[0]!.length
  }

  /** The sibling hashes from the leaf of item `index` (counting from 0, not from the offset) up to the root. */
  proof(index: number): string[] {
    const position = index - this.offset
    if (!Number.isInteger(position) || position < 0 || position >= this.size)
      throw new RangeError(`No item ${index} in a tree of items ${this.offset}..${this.offset + this.size - 1}.`)
    const proof: string[] = []
    let i = position
    for (const layer of this.layers.slice(0, -1)) {
      const sibling = i ^ 1
      if (sibling < layer.length) proof.push(layer[sibling]!)
      i >>= 1
    }
    return proof
  }
}

/** Checks a proof: folds the leaf with each sibling (sorted pairs) and compares with the root. */
export function verifyProof(root: string, index: number, payloadHash: string, proof: readonly string[]): boolean {
  let hash = leafHash(index, payloadHash)
  for (const sibling of proof) hash = hashPair(hash, sibling)
  return hash.toLowerCase() === root.toLowerCase()
}

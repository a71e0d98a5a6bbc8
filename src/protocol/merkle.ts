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

  /** @param payloadHashes the bytes32 hash of each item's payload, in index order */
  constructor(payloadHashes: readonly string[]) {
    if (payloadHashes.length === 0) throw new RangeError('A Merkle tree needs at least one leaf.')
    let layer = payloadHashes.map((h, i) => leafHash(i, h))
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

  /** The sibling hashes from the leaf at `index` up to the root. */
  proof(index: number): string[] {
    if (!Number.isInteger(index) || index < 0 || index >= this.size) throw new RangeError(`No leaf ${index} in a tree of ${this.size}.`)
    const proof: string[] = []
    let i = index
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

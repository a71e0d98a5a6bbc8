import {keccak256, toUtf8Bytes} from 'ethers'
import {describe, expect, it} from 'vitest'

import {MerkleTree, leafHash, verifyProof} from './merkle.js'

const payloads = (n: number) => Array.from({length: n}, (_, i) => keccak256(toUtf8Bytes(`item ${i}`)))

describe('MerkleTree', () => {
  it.each([1, 2, 3, 5, 8, 13, 64, 100])('proves every leaf of a tree of %i', (n) => {
    const hashes = payloads(n)
    const tree = new MerkleTree(hashes)
    for (let i = 0; i < n; i++) expect(verifyProof(tree.root, i, hashes[i]!, tree.proof(i))).toBe(true)
  })

  it('has the leaf itself as root for one item', () => {
    const [h] = payloads(1)
    expect(new MerkleTree([h!]).root).toBe(leafHash(0, h!))
  })

  it('rejects a changed payload, a moved index and a truncated proof', () => {
    const hashes = payloads(10)
    const tree = new MerkleTree(hashes)
    const proof = tree.proof(3)
    expect(verifyProof(tree.root, 3, hashes[4]!, proof)).toBe(false)
    expect(verifyProof(tree.root, 4, hashes[3]!, proof)).toBe(false)
    expect(verifyProof(tree.root, 3, hashes[3]!, proof.slice(1))).toBe(false)
  })

  it('changes the root when any item changes', () => {
    const hashes = payloads(7)
    const root = new MerkleTree(hashes).root
    const changed = [...hashes]
    changed[6] = keccak256(toUtf8Bytes('other'))
    expect(new MerkleTree(changed).root).not.toBe(root)
  })

  it('binds global indices in a tree that starts at an offset', () => {
    const hashes = payloads(5)
    const tree = new MerkleTree(hashes, 10)
    for (let i = 0; i < 5; i++) expect(verifyProof(tree.root, 10 + i, hashes[i]!, tree.proof(10 + i))).toBe(true)
    expect(verifyProof(tree.root, 0, hashes[0]!, tree.proof(10))).toBe(false)
    expect(() => tree.proof(0)).toThrow(RangeError)
  })

  it('refuses an empty tree and out-of-range proofs', () => {
    expect(() => new MerkleTree([])).toThrow(RangeError)
    expect(() => new MerkleTree(payloads(3)).proof(3)).toThrow(RangeError)
  })
})

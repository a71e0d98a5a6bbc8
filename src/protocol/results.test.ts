import {describe, expect, it} from 'vitest'

import {AbiCoder, keccak256} from 'ethers'

import {type ItemResult, checkpointOfItem, resultTree, sampleIndices, segmentOf, verifyResult} from './results.js'

const result = (index: number, completion = `out ${index}`): ItemResult => ({
  index,
  id: String(index),
  itemHash: `0x${index.toString(16).padStart(64, '0')}`,
  completion,
  tokenIds: [index, index + 1],
  promptTokens: 3,
  finishReason: 'length',
})

describe('segments and results', () => {
  it('splits items into checkpoints like the contract: earlier segments take the remainder', () => {
    expect([0, 1, 2].map((k) => segmentOf(20, 3, k))).toEqual([
      {first: 0, end: 7},
      {first: 7, end: 14},
      {first: 14, end: 20},
    ])
    expect(segmentOf(20, 2, 1)).toEqual({first: 10, end: 20})
    expect(checkpointOfItem(20, 3, 6)).toBe(0)
    expect(checkpointOfItem(20, 3, 7)).toBe(1)
    expect(() => checkpointOfItem(20, 3, 20)).toThrow(RangeError)
  })

  it('proves each result of a checkpoint and rejects a changed completion', () => {
    const results = [10, 11, 12, 13].map((i) => result(i))
    const tree = resultTree(results)
    for (const r of results) expect(verifyResult(tree.root, r, tree.proof(r.index))).toBe(true)
    expect(verifyResult(tree.root, {...results[1]!, completion: 'forged'}, tree.proof(11))).toBe(false)
    expect(verifyResult(tree.root, {...results[1]!, tokenIds: [1, 2, 3]}, tree.proof(11))).toBe(false)
  })

  it('refuses gaps', () => {
    expect(() => resultTree([result(0), result(2)])).toThrow(/item 1 is missing/)
  })
})

describe('sampleIndices', () => {
  const seed = `0x${'5a'.repeat(32)}`
  it('draws size distinct indices inside the segment, sorted, the same for the same seed', () => {
    const sample = sampleIndices(seed, 10, 30, 4)
    expect(sample).toHaveLength(4)
    expect(new Set(sample).size).toBe(4)
    for (const i of sample) expect(i >= 10 && i < 30).toBe(true)
    expect(sample).toEqual([...sample].sort((a, b) => a - b))
    expect(sampleIndices(seed, 10, 30, 4)).toEqual(sample)
  })
  it('depends on the seed', () => {
    const samples = new Set(Array.from({length: 8}, (_, i) => sampleIndices(`0x${i.toString(16).padStart(64, '0')}`, 0, 1000, 3).join(',')))
    expect(samples.size).toBe(8)
  })
  it('takes the whole segment when it is smaller than the sample, and nothing from an empty one', () => {
    expect(sampleIndices(seed, 5, 8, 10)).toEqual([5, 6, 7])
    expect(sampleIndices(seed, 5, 5, 3)).toEqual([])
    expect(sampleIndices(seed, 0, 4, 0)).toEqual([])
  })
  it('is a Fisher–Yates draw: its first pick is keccak256(abi.encode(seed, 0)) mod n', () => {
    const n = 97
    const draw = BigInt(keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'uint256'], [seed, 0])))
    expect(sampleIndices(seed, 0, n, 1)).toEqual([Number(draw % BigInt(n))])
  })
  it('spreads over the segment (every index gets picked across seeds)', () => {
    const counts = new Array(10).fill(0)
    for (let s = 0; s < 400; s++) for (const i of sampleIndices(keccak256(`0x${s.toString(16).padStart(4, '0')}`), 0, 10, 3)) counts[i]++
    for (const c of counts) expect(c).toBeGreaterThan(60) // 120 expected each
  })
  it('refuses a malformed seed or segment', () => {
    expect(() => sampleIndices('0x12', 0, 4, 1)).toThrow(RangeError)
    expect(() => sampleIndices(seed, 4, 2, 1)).toThrow(RangeError)
  })
})

import {describe, expect, it} from 'vitest'

import {type ItemResult, checkpointOfItem, resultTree, segmentOf, verifyResult} from './results.js'

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

/** The indexer's fast event decoder gives what ethers' parseLog gives, for every TaskMarket event. */
import {type EventFragment, Interface, type ParamType, getAddress, keccak256, toUtf8Bytes} from 'ethers'
import {describe, expect, it} from 'vitest'

import {loadArtifact} from '../../../src/chain/artifacts.js'
import {EventDecoder} from '../../../src/indexer/event-decoder.js'

const iface = new Interface(loadArtifact('TaskMarket').abi)

/** A sample value of any ABI type (varied by `seed`). */
function sample(param: ParamType, seed: number): unknown {
  if (param.baseType === 'tuple') return param.components!.map((c, i) => sample(c, seed + i + 1))
  if (param.baseType === 'array') return [sample(param.arrayChildren!, seed + 1), sample(param.arrayChildren!, seed + 2)]
  const type = param.type
  if (type === 'address') return getAddress(`0x${keccak256(toUtf8Bytes(`a${seed}`)).slice(26)}`)
  if (type === 'bool') return seed % 2 === 0
  if (type === 'string') return `spec-${seed}`
  if (type === 'bytes') return '0x1234'
  if (/^bytes\d+$/.test(type)) return keccak256(toUtf8Bytes(`b${seed}`)).slice(0, 2 + Number(type.slice(5)) * 2)
  if (/^uint(\d*)$/.test(type)) return BigInt(seed * 7 + 1) % 2n ** BigInt(Number(type.slice(4) || 256))
  if (/^int(\d*)$/.test(type)) return -BigInt(seed + 1)
  throw new Error(`no sample for ${type}`)
}

describe('EventDecoder', () => {
  const events: EventFragment[] = []
  iface.forEachEvent((e) => events.push(e))

  it('decodes every TaskMarket event exactly like ethers', () => {
    const decoder = new EventDecoder(iface)
    expect(events.length).toBeGreaterThan(10)
    for (const [i, fragment] of events.entries()) {
      const values = fragment.inputs.map((p, j) => sample(p, i * 10 + j))
      const log = iface.encodeEventLog(fragment, values)
      const ours = decoder.parse(log)!
      const theirs = iface.parseLog(log)!
      expect(ours.name, fragment.name).toBe(theirs.name)
      expect(ours.signature).toBe(theirs.signature)
      expect(ours.topic).toBe(theirs.topic)
      expect(ours.args.toArray(true), fragment.name).toEqual(theirs.args.toArray(true))
      for (const input of fragment.inputs) expect(ours.args[input.name as never], `${fragment.name}.${input.name}`).toEqual(theirs.args[input.name as never])
    }
  })

  it('ignores logs of other contracts and refuses truncated ones', () => {
    const decoder = new EventDecoder(iface)
    expect(decoder.parse({topics: [keccak256(toUtf8Bytes('Transfer(address,address,uint256)'))], data: '0x'})).toBeNull()
    expect(decoder.parse({topics: [], data: '0x'})).toBeNull()
    const bid = iface.getEvent('BidPlaced')!
    const log = iface.encodeEventLog(bid, [1n, getAddress(`0x${'12'.repeat(20)}`), 0n, 5n])
    expect(() => decoder.parse({topics: log.topics, data: log.data.slice(0, 66)})).toThrow(/too short/)
  })
})

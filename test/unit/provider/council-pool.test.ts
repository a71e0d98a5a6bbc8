import {describe, expect, it} from 'vitest'

import {type CouncilRegistry, joinCouncilPools, leaveCouncilPools} from '../../../src/provider/council-pool.js'
import {recordingLogger, response, revert} from './daemon/fakes.js'

const sha = (n: number) => `0x${n.toString(16).padStart(64, '0')}`
const ME = '0x00000000000000000000000000000000000000aa'

/** A registry that keeps one provider's pools, with the per-provider cap and full pools as reverts. */
function fakeRegistry(initial: string[] = [], full: string[] = []) {
  const pools = [...initial]
  const calls: string[] = []
  const limits: bigint[] = []
  const registry: CouncilRegistry = {
    councilModelsOf: async () => [...pools],
    MAX_COUNCIL_MODELS: async () => 4n,
    joinCouncil: Object.assign(
      async (model: string, overrides: {gasLimit: bigint}) => {
        calls.push(`join ${model}`)
        limits.push(overrides.gasLimit)
        pools.push(model)
        return response()
      },
      {
        estimateGas: async (model: string) => {
          if (full.includes(model)) throw revert('ProviderRegistryCouncilPoolFull')
          return 450_000n
        },
      },
    ),
    leaveCouncil: Object.assign(
      async (model: string, overrides: {gasLimit: bigint}) => {
        calls.push(`leave ${model}`)
        limits.push(overrides.gasLimit)
        pools.splice(pools.indexOf(model), 1)
        return response()
      },
      {estimateGas: async () => 380_000n},
    ),
  }
  return {registry, pools, calls, limits}
}

const send = async (_what: string, tx: () => Promise<unknown>) => {
  await tx()
  return {hash: '0x1'}
}

describe('council pools', () => {
  it('joins the pool of every served model it is not in yet, once, in lower-case 0x form', async () => {
    const f = fakeRegistry([sha(1)])
    const log = recordingLogger()
    const result = await joinCouncilPools({registry: f.registry, provider: ME, models: [sha(1).slice(2), sha(2), sha(2).toUpperCase().replace('0X', '0x')], sendTx: send, log})
    expect(result).toEqual({joined: [sha(2)], already: [sha(1)], skipped: []})
    expect(f.calls).toEqual([`join ${sha(2)}`])
    // half again the estimate: a join's cost depends on the other members' writes in its block
    expect(f.limits).toEqual([675_000n])
    expect(log.lines.filter((l) => l.event === 'council').map((l) => l.level)).toEqual(['info'])
  })

  it('stops at the per-provider cap and reports a full pool instead of throwing', async () => {
    const f = fakeRegistry([sha(1), sha(2)], [sha(3)])
    const log = recordingLogger()
    const result = await joinCouncilPools({registry: f.registry, provider: ME, models: [sha(3), sha(4), sha(5), sha(6)], sendTx: send, log})
    expect(result.joined).toEqual([sha(4), sha(5)])
    expect(result.skipped).toEqual([
      {model: sha(3), reason: 'ProviderRegistryCouncilPoolFull'},
      {model: sha(6), reason: 'already in 4 council pools, the most per provider'},
    ])
    expect(log.lines.filter((l) => l.level === 'warn')).toHaveLength(2)
  })

  it('leaves only the pools it is in', async () => {
    const f = fakeRegistry([sha(1), sha(2)])
    expect(await leaveCouncilPools({registry: f.registry, provider: ME, models: [sha(2), sha(9)], sendTx: send})).toEqual([sha(2)])
    expect(f.pools).toEqual([sha(1)])
    expect(f.calls).toEqual([`leave ${sha(2)}`])
    expect(f.limits).toEqual([570_000n])
  })
})

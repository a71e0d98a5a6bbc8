/**
 * The "My wallet" data: balances, stake and provider registration read from the chain, and earnings summed from the
 * indexer (what the market paid this address as executor and as council member).
 */
import {getAddress, type Provider} from 'ethers'

import {type ProviderRegistry, readProvider, readStakeInfo} from '../chain/contracts/registry.js'
import type {OGPUToken} from '../chain/contracts/token.js'

import {type Earnings, earningsOf, nextCheckpoint} from '../market/earnings.js'
import type {IndexedTask} from '../market/types.js'

/** One read of the wallet's on-chain state, in base units. */
export interface WalletChainData {
  eth: bigint
  ogpu: bigint
  staked: bigint
  locked: bigint
  unbonding: bigint
  /** Unix seconds (0 when nothing unbonds). */
  unbondingEnd: number
  registered: boolean
  endpoint: string | null
}

export interface WalletContracts {
  provider: Provider
  token: OGPUToken
  registry: ProviderRegistry
}

export async function readWalletChain(chain: WalletContracts, address: string): Promise<WalletChainData> {
  const [eth, ogpu, stake, provider] = await Promise.all([
    chain.provider.getBalance(address),
    chain.token.balanceOf(address),
    readStakeInfo(chain.registry, address),
    readProvider(chain.registry, address),
  ])
  return {
    eth,
    ogpu,
    staked: stake.staked,
    locked: stake.locked,
    unbonding: stake.unbonding,
    unbondingEnd: stake.unbondingEnd,
    registered: provider.registered,
    endpoint: provider.registered && provider.endpoint ? provider.endpoint : null,
  }
}

/** Active stake of each address (for the bid ladder), in base units. */
export async function readStakes(registry: ProviderRegistry, addresses: readonly string[]): Promise<Map<string, bigint>> {
  const out = new Map<string, bigint>()
  await Promise.all(
    addresses.map(async (address) => {
      const stake = await registry.stakeOf(address)
      out.set(address, stake.staked)
    }),
  )
  return out
}

export interface WalletTask {
  id: number
  role: 'executor' | 'council' | 'bidder' | 'client'
  status: string
  /** Next checkpoint (for assigned tasks). */
  checkpoint: number | null
}

/**
 * Earnings of `address` from the market's events (the rule: src/market/earnings.ts), and the tasks it takes part in
 * that have not ended.
 */
export function marketActivity(tasks: Iterable<IndexedTask>, address: string): {earnings: Earnings; active: WalletTask[]} {
  const me = getAddress(address) // the indexer stores checksummed addresses
  const all = [...tasks]
  const earnings = earningsOf(me, all)
  const active: WalletTask[] = []
  for (const task of all) {
    const executor = task.executor === me
    const council = task.council.includes(me)
    if (task.status === 'open' || task.status === 'assigned') {
      const bidder = task.status === 'open' && task.bids.some((b) => b.provider === me)
      const role = executor ? 'executor' : council ? 'council' : bidder ? 'bidder' : task.client === me ? 'client' : undefined
      if (role) active.push({id: task.id, role, status: task.status, checkpoint: task.status === 'assigned' ? nextCheckpoint(task) : null})
    }
  }
  active.sort((a, b) => b.id - a.id)
  return {earnings, active}
}

/** The provider registry (ProviderRegistry.sol: registration, stake, trust lock, slashing), through its typed binding. */
import {type ContractRunner, getAddress} from 'ethers'

import {type ProviderRegistry, ProviderRegistry__factory} from './generated/index.js'

export type {ProviderRegistry} from './generated/index.js'

/** The registry at `address`, read-only with a provider, or signing with a signer. */
export function registryAt(address: string, runner: ContractRunner): ProviderRegistry {
  return ProviderRegistry__factory.connect(address, runner)
}

/** A provider's registration (IProviderRegistry.Provider). */
export interface ProviderRecord {
  address: string
  registered: boolean
  /** The URL clients and councils reach it at, as registered ("" when not registered). */
  endpoint: string
  /** keccak256 of the canonical JSON of its host info document. */
  infoHash: string
  /** Unix seconds (0 when not registered). */
  registeredAt: number
}

/** The registration of `address` (registered: false when it never registered). */
export async function readProvider(registry: ProviderRegistry, address: string): Promise<ProviderRecord> {
  const p = await registry.providerOf(address)
  return {address: getAddress(address), registered: p.registered, endpoint: p.endpoint, infoHash: p.infoHash, registeredAt: Number(p.registeredAt)}
}

/** The registered endpoint of `address` without a trailing slash, or null when it is not registered or has none. */
export async function endpointOf(registry: ProviderRegistry, address: string): Promise<string | null> {
  const p = await readProvider(registry, address)
  return p.registered && p.endpoint ? p.endpoint.replace(/\/+$/, '') : null
}

/** Stake of a provider (IProviderRegistry.StakeInfo), wei and unix seconds. */
export interface StakeRecord {
  staked: bigint
  locked: bigint
  unbonding: bigint
  unbondingEnd: number
}

export async function readStakeInfo(registry: ProviderRegistry, address: string): Promise<StakeRecord> {
  const s = await registry.stakeOf(address)
  return {staked: s.staked, locked: s.locked, unbonding: s.unbonding, unbondingEnd: Number(s.unbondingEnd)}
}

import {arch, cpus, platform, totalmem} from 'node:os'

import type {Wallet} from 'ethers'

import {type StakeJson, chainTime, readStake, stakeJson} from '../chain/account.js'
import {type ChainContext, withSigner} from '../chain/context.js'
import {sendTx} from '../chain/tx.js'
import {UserError} from '../errors/index.js'
import {canonicalHash} from '../protocol/canonical.js'

/** What a provider publishes about itself; its keccak256 (over canonical JSON) goes on chain as the info hash. */
export interface ProviderInfoDocument {
  software: string
  platform: string
  arch: string
  cpu: string
  cpuCores: number
  memoryGiB: number
  /**
   * Whether it verifies stream responses by prefill (POST /v1/ogpu/verify). Absent means yes; a provider whose
   * generations run on an endpoint backend says false.
   */
  verify?: boolean
}

export function describeHost(version: string, options: {verify?: boolean} = {}): ProviderInfoDocument {
  const cpu = cpus()
  return {
    ...(options.verify === false ? {verify: false} : {}),
    software: `ogpu/${version}`,
    platform: platform(),
    arch: arch(),
    cpu: cpu[0]?.model.trim() ?? 'unknown',
    cpuCores: cpu.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
  }
}

export function validateEndpoint(endpoint: string): string {
  let url: URL
  try {
    url = new URL(endpoint)
  } catch {
    throw new UserError(`"${endpoint}" is not a URL.`, {code: 'INVALID_ENDPOINT', hint: 'Give the public URL of your provider, e.g. https://gpu.example.com:8443.'})
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UserError(`Endpoint ${endpoint} must use http or https.`, {code: 'INVALID_ENDPOINT'})
  if (Buffer.byteLength(endpoint) > 256) throw new UserError('The endpoint URL is longer than 256 bytes.', {code: 'INVALID_ENDPOINT'})
  return endpoint
}

export interface ProviderStatus {
  address: string
  registered: boolean
  endpoint: string | null
  infoHash: string | null
  registeredAt: string | null
  stake: StakeJson
  /** The models (sha256, 0x) whose council pools it is in: councils drawn from them may seat it. */
  councilModels: string[]
}

export async function providerStatus(chain: ChainContext, address: string): Promise<ProviderStatus> {
  const [provider, stake, now, councilModels] = await Promise.all([
    chain.registry.providerOf(address),
    readStake(chain, address),
    chainTime(chain),
    chain.registry.councilModelsOf(address),
  ])
  return {
    address,
    registered: provider.registered,
    endpoint: provider.registered ? provider.endpoint : null,
    infoHash: provider.registered ? provider.infoHash : null,
    registeredAt: provider.registered ? new Date(Number(provider.registeredAt) * 1000).toISOString() : null,
    stake: stakeJson(stake, now),
    councilModels: [...councilModels],
  }
}

/** Registers the signer as a provider, or updates its endpoint and info when it is registered already. */
export async function registerProvider(
  chain: ChainContext,
  signer: Wallet,
  options: {endpoint: string; info: ProviderInfoDocument},
): Promise<ProviderStatus & {action: 'registered' | 'updated'; txHash: string}> {
  const endpoint = validateEndpoint(options.endpoint)
  const infoHash = canonicalHash(options.info)
  const wallet = signer.connect(chain.provider)
  const registry = withSigner(chain.registry, wallet)
  const registered = await chain.registry.isRegistered(wallet.address)
  const receipt = registered
    ? await sendTx(chain.provider, 'Update provider', () => registry.updateProvider(endpoint, infoHash), chain.tx)
    : await sendTx(chain.provider, 'Register provider', () => registry.register(endpoint, infoHash), chain.tx)
  return {...(await providerStatus(chain, wallet.address)), action: registered ? 'updated' : 'registered', txHash: receipt.hash}
}

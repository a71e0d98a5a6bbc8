import type {ContractRunner, JsonRpcProvider, Signer} from 'ethers'

import type {OgpuPaths} from '../config/paths.js'
import {SettingsStore} from '../config/settings.js'
import {UserError} from '../errors/index.js'
import {type ProviderRegistry, registryAt} from './contracts/registry.js'
import {type TaskMarket, taskMarketAt} from './contracts/task-market.js'
import {type OGPUToken, tokenAt} from './contracts/token.js'
import {type NetworkFile, NetworkStore} from './networks.js'
import {connect} from './rpc.js'
import type {WaitOptions} from './tx.js'

/** An open connection to one ogpu deployment. */
export interface ChainContext {
  network: NetworkFile
  rpcUrl: string
  provider: JsonRpcProvider
  /** The oGPU token, read-only (connect a signer for writes). */
  token: OGPUToken
  /** The provider registry, read-only (connect a signer for writes). */
  registry: ProviderRegistry
  /** The batch-task market, read-only (connect a signer for writes). */
  market: TaskMarket
  tx: WaitOptions
  dispose(): void
}

export interface OpenChainOptions {
  paths: OgpuPaths
  /** Network name. Defaults to the active network (setting `network`, "devnet" by default). */
  network?: string
  /** JSON-RPC URL overriding the network file's. Defaults to the file's. */
  rpc?: string
}

export async function openChain(options: OpenChainOptions): Promise<ChainContext> {
  const store = new NetworkStore(options.paths)
  const settings = new SettingsStore(options.paths)
  const network = store.read(options.network ?? store.activeName())
  const rpcUrl = options.rpc ?? network.rpcUrl
  const {provider} = await connect(rpcUrl, {
    expectedChainId: network.chainId,
    timeoutMs: Number(settings.get('rpc.timeoutMs')),
    pollingIntervalMs: network.devnet ? 200 : 2000,
  })
  const code = await provider.getCode(network.contracts.registry)
  if (code === '0x') {
    provider.destroy()
    throw new UserError(`No ogpu contracts at ${network.contracts.registry} on ${rpcUrl}.`, {
      code: 'CONTRACTS_NOT_FOUND',
      hint: network.devnet
        ? 'The devnet chain was reset. Start it again with `ogpu devnet start` (use --state FILE to keep the chain across restarts).'
        : `Deploy them with \`ogpu deploy --rpc ${rpcUrl}\`, or fix the network file.`,
    })
  }
  return {
    network,
    rpcUrl,
    provider,
    token: tokenAt(network.contracts.token, provider),
    registry: registryAt(network.contracts.registry, provider),
    market: taskMarketAt(network.contracts.taskMarket, provider),
    tx: {timeoutMs: Number(settings.get('tx.confirmTimeoutMs'))},
    dispose: () => provider.destroy(),
  }
}

/** A typed contract handle that signs with `signer`. */
export function withSigner<C extends {connect(runner: ContractRunner | null): C}>(contract: C, signer: Signer): C {
  return contract.connect(signer)
}

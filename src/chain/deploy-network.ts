import type {Wallet} from 'ethers'

import type {OgpuPaths} from '../config/paths.js'
import {UserError} from '../errors/index.js'
import {deployContracts} from './deploy.js'
import {type NetworkFile, NetworkStore, validateNetworkName} from './networks.js'
import {connect} from './rpc.js'
import {streamMarketAt} from './contracts/stream-market.js'
import {taskMarketAt} from './contracts/task-market.js'

export interface DeployNetworkOptions {
  paths: OgpuPaths
  rpcUrl: string
  /** Network name for the file. Defaults to `chain-<chainId>`. */
  name?: string
  signer: Wallet
  /** Existing ERC-20 with permit to use as oGPU. Defaults to deploying OGPUToken. */
  existingToken?: string
  /** Unbonding period in seconds. Defaults to 7 days. */
  unbondingPeriod?: number
  /** Replace an existing network file of that name. Defaults to false. */
  force?: boolean
  onStep?: (message: string) => void
}

/** Deploys the contracts to any EVM chain and writes its network file. */
export async function deployNetwork(options: DeployNetworkOptions): Promise<NetworkFile & {file: string; admin: string}> {
  if (options.name) validateNetworkName(options.name)
  const {provider, chainId} = await connect(options.rpcUrl)
  try {
    const name = options.name ?? `chain-${chainId}`
    const store = new NetworkStore(options.paths)
    if (store.has(name) && !options.force)
      throw new UserError(`A network named "${name}" exists already.`, {
        code: 'NETWORK_EXISTS',
        hint: 'Pick another name with --name, or replace it with --force.',
      })
    const signer = options.signer.connect(provider)
    const balance = await provider.getBalance(signer.address)
    if (balance === 0n)
      throw new UserError(`The deployer ${signer.address} has no ETH on chain ${chainId} to pay for gas.`, {code: 'INSUFFICIENT_FUNDS'})
    const deployment = await deployContracts({provider, signer, existingToken: options.existingToken, unbondingPeriod: options.unbondingPeriod, onStep: options.onStep})
    const network: NetworkFile = {
      name,
      chainId,
      rpcUrl: options.rpcUrl,
      contracts: deployment.contracts,
      deployBlock: deployment.deployBlock,
      createdAt: new Date().toISOString(),
    }
    const file = store.write(network)
    return {...network, file, admin: deployment.admin}
  } finally {
    provider.destroy()
  }
}

/** Adds a network file for contracts deployed elsewhere, after checking the chain and the contracts. */
export async function addNetwork(options: {
  paths: OgpuPaths
  name: string
  rpcUrl: string
  /** The TaskMarket address; the registry and the token are read from it. */
  market: string
  /** The StreamMarket address; it must share the TaskMarket's registry and token. Defaults to none (no stream tasks). */
  streamMarket?: string
  deployBlock?: number
  force?: boolean
}): Promise<NetworkFile & {file: string}> {
  validateNetworkName(options.name)
  const store = new NetworkStore(options.paths)
  if (store.has(options.name) && !options.force)
    throw new UserError(`A network named "${options.name}" exists already.`, {code: 'NETWORK_EXISTS', hint: 'Use --force to replace it.'})
  const {provider, chainId} = await connect(options.rpcUrl)
  try {
    const {getAddress, isAddress} = await import('ethers')
    if (!isAddress(options.market)) throw new UserError(`"${options.market}" is not an address.`, {code: 'INVALID_ADDRESS'})
    const marketAddress = getAddress(options.market)
    if ((await provider.getCode(marketAddress)) === '0x')
      throw new UserError(`No contract at ${marketAddress} on chain ${chainId}.`, {code: 'CONTRACTS_NOT_FOUND', hint: 'Check the address and the RPC URL.'})
    const market = taskMarketAt(marketAddress, provider)
    let token: string
    let registry: string
    try {
      registry = getAddress(await market.registry())
      token = getAddress(await market.token())
    } catch {
      throw new UserError(`The contract at ${marketAddress} is not an ogpu TaskMarket.`, {code: 'CONTRACTS_NOT_FOUND'})
    }
    let streamMarket: string | undefined
    if (options.streamMarket !== undefined) {
      if (!isAddress(options.streamMarket)) throw new UserError(`"${options.streamMarket}" is not an address.`, {code: 'INVALID_ADDRESS'})
      streamMarket = getAddress(options.streamMarket)
      if ((await provider.getCode(streamMarket)) === '0x')
        throw new UserError(`No contract at ${streamMarket} on chain ${chainId}.`, {code: 'CONTRACTS_NOT_FOUND', hint: 'Check the --stream-market address and the RPC URL.'})
      const stream = streamMarketAt(streamMarket, provider)
      let streamRegistry: string
      let streamToken: string
      try {
        streamRegistry = getAddress(await stream.registry())
        streamToken = getAddress(await stream.token())
        await stream.nextStreamId()
      } catch {
        throw new UserError(`The contract at ${streamMarket} is not an ogpu StreamMarket.`, {code: 'CONTRACTS_NOT_FOUND'})
      }
      if (streamRegistry !== registry || streamToken !== token)
        throw new UserError(`The StreamMarket at ${streamMarket} uses registry ${streamRegistry} and token ${streamToken}, not the TaskMarket's (${registry}, ${token}).`, {
          code: 'CONTRACTS_MISMATCH',
          hint: 'Both markets of one network share the registry and the token: check --market and --stream-market.',
        })
    }
    const network: NetworkFile = {
      name: options.name,
      chainId,
      rpcUrl: options.rpcUrl,
      contracts: {token, registry, taskMarket: marketAddress, ...(streamMarket ? {streamMarket} : {})},
      deployBlock: options.deployBlock ?? 0,
      createdAt: new Date().toISOString(),
    }
    return {...network, file: store.write(network)}
  } finally {
    provider.destroy()
  }
}

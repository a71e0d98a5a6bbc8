import {existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join, resolve} from 'node:path'

import {Wallet, parseUnits} from 'ethers'

import {devKeys} from '../chain/dev-accounts.js'
import {DEVNET_MARKET_CONFIG, DEVNET_STREAM_CONFIG, deployContracts, mintMany} from '../chain/deploy.js'
import {type NetworkFile, NetworkStore} from '../chain/networks.js'
import {connect, rpcCall} from '../chain/rpc.js'
import {devnetDir, type OgpuPaths} from '../config/paths.js'
import {UserError} from '../errors/index.js'
import {WalletStore} from '../wallet/wallet-store.js'
import {isAlive, isPortOpen, startAnvil, stopProcess} from './anvil.js'

export {DEV_ACCOUNTS, DEV_MNEMONIC, devKeys} from '../chain/dev-accounts.js'
export const DEVNET_CHAIN_ID = 31_337
export const DEVNET_NETWORK = 'devnet'

export interface DevnetOptions {
  paths: OgpuPaths
  /** TCP port on 127.0.0.1. Defaults to 8545. */
  port?: number
  /** Seconds between blocks; 0 mines every transaction at once. Defaults to 1. */
  blockTime?: number
  /** Persist the chain in this file across restarts (anvil's state dump). Defaults to none. */
  statePath?: string
  /** Leave anvil running in the background after this call returns. Defaults to false. */
  detach?: boolean
  /** Unbonding period of staked oGPU, in seconds. Defaults to 120. */
  unbondingPeriod?: number
  /** oGPU minted to each dev account. Defaults to 100000 oGPU. */
  fundAmount?: bigint
  /** Progress callback, one line per step. Defaults to silence. */
  onStep?: (message: string) => void
}

/** The runtime record of a running devnet (`<data dir>/devnet/devnet.json`). */
export interface DevnetRecord {
  pid: number
  port: number
  rpcUrl: string
  chainId: number
  blockTime: number
  statePath?: string
  logFile: string
  detached: boolean
  startedAt: string
}

export interface DevnetInfo extends DevnetRecord {
  networkFile: string
  contracts: NetworkFile['contracts']
  wallets: Array<{name: string; address: string}>
  /** True when the contracts came back from --state instead of being deployed now. */
  resumed: boolean
}

export interface DevnetHandle {
  info: DevnetInfo
  /** Resolves when anvil exits. */
  exited: Promise<number | null>
  /** Stops anvil (its state is dumped when --state was given) and removes the runtime record. */
  stop(): Promise<void>
}

const recordFile = (paths: OgpuPaths): string => join(devnetDir(paths), 'devnet.json')

export function readDevnetRecord(paths: OgpuPaths): DevnetRecord | undefined {
  const file = recordFile(paths)
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as DevnetRecord
  } catch {
    return undefined
  }
}

function validatePort(port: number): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw new UserError(`Port ${port} is not a valid TCP port.`, {code: 'INVALID_PORT', hint: 'Use a number from 1 to 65535.'})
  return port
}

/**
 * Starts the embedded devnet: anvil on 127.0.0.1, the contracts deployed, the 10 dev accounts funded with ETH and
 * oGPU and saved as wallets dev0..dev9, and the network file written. With a state file whose chain already has
 * the contracts, they are reused.
 */
export async function startDevnet(options: DevnetOptions): Promise<DevnetHandle> {
  const port = validatePort(options.port ?? 8545)
  const blockTime = options.blockTime ?? 1
  if (!Number.isFinite(blockTime) || blockTime < 0 || blockTime > 3600)
    throw new UserError(`Block time ${blockTime} is out of range.`, {code: 'INVALID_ARGUMENT', hint: 'Use 0 (mine each transaction at once) to 3600 seconds.'})
  const step = options.onStep ?? (() => {})

  const existing = readDevnetRecord(options.paths)
  if (await isPortOpen(port)) {
    if (existing && existing.port === port && isAlive(existing.pid))
      throw new UserError(`A devnet is already running on port ${port} (pid ${existing.pid}).`, {
        code: 'DEVNET_RUNNING',
        hint: 'Use it as it is, stop it with `ogpu devnet stop`, or pick another port with --port.',
      })
    throw new UserError(`Port ${port} on 127.0.0.1 is already in use by another program.`, {
      code: 'PORT_IN_USE',
      hint: 'Pick another port with --port.',
    })
  }
  if (existing && isAlive(existing.pid))
    throw new UserError(`A devnet is already running on port ${existing.port} (pid ${existing.pid}).`, {
      code: 'DEVNET_RUNNING',
      hint: 'Stop it first with `ogpu devnet stop`; one devnet runs per ogpu data directory.',
    })

  const dir = devnetDir(options.paths)
  mkdirSync(dir, {recursive: true})
  const logFile = join(dir, 'anvil.log')
  const statePath = options.statePath ? resolve(options.statePath) : undefined
  step(`Starting anvil on 127.0.0.1:${port}`)
  const anvil = await startAnvil({port, blockTime, statePath, logFile, detached: options.detach, chainId: DEVNET_CHAIN_ID})
  try {
    const {provider, chainId} = await connect(anvil.rpcUrl, {pollingIntervalMs: 100})
    const keys = devKeys()
    const networks = new NetworkStore(options.paths)
    let network: NetworkFile | undefined
    let resumed = false
    if (statePath && networks.has(DEVNET_NETWORK)) {
      const previous = networks.read(DEVNET_NETWORK)
      if (previous.chainId === chainId && (await provider.getCode(previous.contracts.registry)) !== '0x') {
        network = {...previous, rpcUrl: anvil.rpcUrl}
        resumed = true
        step('Contracts found in the saved state: reusing them')
      }
    }
    if (!network) {
      const admin = new Wallet(keys[0]!, provider)
      const deployment = await deployContracts({provider, signer: admin, unbondingPeriod: options.unbondingPeriod ?? 120, marketConfig: DEVNET_MARKET_CONFIG, streamConfig: DEVNET_STREAM_CONFIG, onStep: step})
      step(`Funding ${keys.length} dev accounts`)
      const fund = options.fundAmount ?? parseUnits('100000', 18)
      await mintMany(
        provider,
        admin,
        deployment.contracts.token,
        keys.map((k) => ({to: new Wallet(k).address, amount: fund})),
      )
      network = {
        name: DEVNET_NETWORK,
        chainId,
        rpcUrl: anvil.rpcUrl,
        contracts: deployment.contracts,
        deployBlock: deployment.deployBlock,
        devnet: true,
        createdAt: new Date().toISOString(),
      }
    }
    provider.destroy()
    const networkFile = networks.write(network)
    step('Saving dev wallets dev0..dev9')
    const wallets = await new WalletStore(options.paths).writeDevWallets(keys)
    const record: DevnetRecord = {
      pid: anvil.pid,
      port,
      rpcUrl: anvil.rpcUrl,
      chainId,
      blockTime,
      ...(statePath ? {statePath} : {}),
      logFile,
      detached: options.detach ?? false,
      startedAt: new Date().toISOString(),
    }
    writeFileSync(recordFile(options.paths), `${JSON.stringify(record, null, 2)}\n`)
    const info: DevnetInfo = {
      ...record,
      networkFile,
      contracts: network.contracts,
      wallets: wallets.map((w) => ({name: w.name, address: w.address})),
      resumed,
    }
    return {
      info,
      exited: anvil.exited,
      stop: async () => {
        await stopProcess(anvil.pid)
        removeRecord(options.paths, anvil.pid)
      },
    }
  } catch (error) {
    await stopProcess(anvil.pid, 2000)
    throw error
  }
}

function removeRecord(paths: OgpuPaths, pid: number): void {
  const record = readDevnetRecord(paths)
  if (record?.pid === pid) rmSync(recordFile(paths), {force: true})
}

export interface DevnetStatus {
  running: boolean
  record?: DevnetRecord
  /** Latest block number, when the node answers. */
  blockNumber?: number
  network?: NetworkFile
}

export async function devnetStatus(paths: OgpuPaths): Promise<DevnetStatus> {
  const record = readDevnetRecord(paths)
  const networks = new NetworkStore(paths)
  const network = networks.has(DEVNET_NETWORK) ? networks.read(DEVNET_NETWORK) : undefined
  if (!record || !isAlive(record.pid)) return {running: false, network}
  const block = await rpcCall<string>(record.rpcUrl, 'eth_blockNumber', [], 3000).catch(() => undefined)
  return {running: block !== undefined, record, blockNumber: block === undefined ? undefined : Number.parseInt(block, 16), network}
}

/** Stops the devnet started with --detach (or one running in another terminal). */
export async function stopDevnet(paths: OgpuPaths): Promise<{stopped: boolean; pid?: number; statePath?: string}> {
  const record = readDevnetRecord(paths)
  if (!record || !isAlive(record.pid)) {
    rmSync(recordFile(paths), {force: true})
    throw new UserError('No devnet is running.', {code: 'DEVNET_NOT_RUNNING', hint: 'Start one with `ogpu devnet start`.'})
  }
  await stopProcess(record.pid)
  removeRecord(paths, record.pid)
  return {stopped: true, pid: record.pid, statePath: record.statePath}
}

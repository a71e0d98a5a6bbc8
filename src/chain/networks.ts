import {existsSync, mkdirSync, readdirSync, readFileSync} from 'node:fs'
import {basename, join} from 'node:path'

import {isAddress} from 'ethers'

import {networksDir, type OgpuPaths} from '../config/paths.js'
import {SettingsStore} from '../config/settings.js'
import {UserError} from '../errors/index.js'
import {writeFileDurable} from '../storage/index.js'

/** The addresses of the ogpu contracts on one chain. */
export interface ContractAddresses {
  token: string
  registry: string
  taskMarket: string
  /** The StreamMarket (stream tasks). Absent in network files written before stream tasks existed. */
  streamMarket?: string
}

/** A network file: everything a command needs to talk to one deployment. */
export interface NetworkFile {
  name: string
  chainId: number
  rpcUrl: string
  contracts: ContractAddresses
  /** Block of the deployment; indexers start reading events here. */
  deployBlock: number
  /** Set on the embedded devnet (where `wallet fund` and dev wallets work). */
  devnet?: boolean
  createdAt: string
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,63}$/

export function validateNetworkName(name: string): string {
  if (!NAME.test(name))
    throw new UserError(`"${name}" is not a valid network name.`, {
      code: 'INVALID_NAME',
      hint: 'Use letters, digits, dot, dash and underscore (at most 64), starting with a letter or digit.',
    })
  return name
}

export class NetworkStore {
  readonly dir: string
  private readonly settings: SettingsStore

  constructor(readonly paths: OgpuPaths) {
    this.dir = networksDir(paths)
    this.settings = new SettingsStore(paths)
  }

  fileOf(name: string): string {
    return join(this.dir, `${validateNetworkName(name)}.json`)
  }

  has(name: string): boolean {
    return existsSync(this.fileOf(name))
  }

  list(): NetworkFile[] {
    if (!existsSync(this.dir)) return []
    return readdirSync(this.dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => this.read(f.slice(0, -5)))
  }

  /** The active network's name: the setting, which defaults to "devnet". */
  activeName(): string {
    return this.settings.get('network')
  }

  /** Reads a network file; a missing one is a user error that says how to create it. */
  read(name: string): NetworkFile {
    const file = this.fileOf(name)
    if (!existsSync(file))
      throw new UserError(`No network file for "${name}" (${file}).`, {
        code: 'NETWORK_NOT_FOUND',
        hint:
          name === 'devnet'
            ? 'Start the local devnet with `ogpu devnet start`, or deploy to a chain with `ogpu deploy --rpc URL`.'
            : 'Run `ogpu network list` to see the networks, `ogpu deploy --rpc URL` to deploy, or `ogpu network add` to add one.',
      })
    let parsed: NetworkFile
    try {
      parsed = JSON.parse(readFileSync(file, 'utf8')) as NetworkFile
    } catch (error) {
      throw new UserError(`The network file ${file} is not valid JSON.`, {code: 'NETWORK_FILE_INVALID', cause: error})
    }
    if (!parsed.contracts?.taskMarket)
      throw new UserError(`The network file ${file} has no TaskMarket address (it predates the batch market).`, {
        code: 'NETWORK_FILE_OUTDATED',
        hint: name === 'devnet' ? 'Restart the devnet: `ogpu devnet stop`, then `ogpu devnet start`.' : 'Redeploy with `ogpu deploy`, or add the address to the file.',
      })
    return parsed
  }

  /** Writes a network file atomically. */
  write(network: NetworkFile): string {
    validateNetwork(network)
    mkdirSync(this.dir, {recursive: true})
    const file = this.fileOf(network.name)
    writeFileDurable(this.dir, basename(file), `${JSON.stringify(network, null, 2)}\n`, {mode: 0o644})
    return file
  }

  use(name: string): NetworkFile {
    const network = this.read(name)
    this.settings.set('network', name)
    return network
  }
}

export function validateNetwork(network: NetworkFile): void {
  validateNetworkName(network.name)
  for (const [key, address] of Object.entries(network.contracts))
    if (address !== undefined && !isAddress(address))
      throw new UserError(`The ${key} contract address "${address}" is not an address.`, {code: 'INVALID_ADDRESS'})
  if (!Number.isInteger(network.chainId) || network.chainId <= 0)
    throw new UserError(`Chain id ${network.chainId} is not valid.`, {code: 'INVALID_CHAIN_ID'})
}

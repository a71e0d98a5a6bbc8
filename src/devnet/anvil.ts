import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, mkdirSync, openSync, closeSync} from 'node:fs'
import {createRequire} from 'node:module'
import {createConnection} from 'node:net'
import {delimiter, dirname, join} from 'node:path'

import {ExternalError, UserError} from '../errors/index.js'
import {rpcCall} from '../chain/rpc.js'

const PLATFORM_PACKAGES: Record<string, string> = {
  'linux-x64': 'linux-amd64',
  'linux-arm64': 'linux-arm64',
  'darwin-x64': 'darwin-amd64',
  'darwin-arm64': 'darwin-arm64',
  'win32-x64': 'win32-amd64',
}

/**
 * Finds a Foundry binary shipped inside its npm platform package (`@foundry-rs/<tool>-<os>-<arch>`). The packages'
 * postinstall scripts are not needed (npm 11 does not run them by default).
 */
export function findFoundryBinary(tool: 'anvil' | 'forge'): string {
  const platform = PLATFORM_PACKAGES[`${process.platform}-${process.arch}`]
  const pkg = `@foundry-rs/${tool}-${platform ?? `${process.platform}-${process.arch}`}`
  let root: string
  try {
    root = dirname(createRequire(import.meta.url).resolve(`${pkg}/package.json`))
  } catch {
    // No npm build for this platform installed: use a Foundry installed on the PATH (foundryup), if any.
    const onPath = findOnPath(tool)
    if (onPath) return onPath
    throw new UserError(`${tool} is not installed for ${process.platform}-${process.arch} (no ${pkg} package and no ${tool} on the PATH).`, {
      code: 'ANVIL_MISSING',
      hint: 'Run `npm ci` in the ogpu directory, or install Foundry (https://getfoundry.sh), or pass --rpc to use your own node.',
    })
  }
  const binary = join(root, 'bin', process.platform === 'win32' ? `${tool}.exe` : tool)
  if (!existsSync(binary)) throw new UserError(`${binary} is missing.`, {code: 'ANVIL_MISSING', hint: 'Reinstall with `npm ci`.'})
  return binary
}

function findOnPath(tool: string): string | undefined {
  const name = process.platform === 'win32' ? `${tool}.exe` : tool
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, name)
    if (dir && existsSync(candidate)) return candidate
  }
  return undefined
}

/** True when something accepts TCP connections on host:port. */
export function isPortOpen(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({port, host})
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
    socket.setTimeout(1000, () => {
      socket.destroy()
      resolve(false)
    })
  })
}

export interface AnvilOptions {
  /** Defaults to 127.0.0.1. */
  host?: string
  port: number
  /** Seconds between blocks; 0 mines each transaction at once. Defaults to 1. */
  blockTime?: number
  /** Chain id. Defaults to 31337. */
  chainId?: number
  /** Load the chain from this file if it exists, and dump it there on exit. Defaults to none (a fresh chain). */
  statePath?: string
  /** Where anvil's own output goes. */
  logFile: string
  /** Run in its own process group, surviving this process. Defaults to false. */
  detached?: boolean
}

export interface AnvilProcess {
  pid: number
  rpcUrl: string
  child: ChildProcess
  /** Resolves with the exit code when anvil exits. */
  exited: Promise<number | null>
}

/** Starts anvil and waits until it answers JSON-RPC. */
export async function startAnvil(options: AnvilOptions): Promise<AnvilProcess> {
  const host = options.host ?? '127.0.0.1'
  const args = ['--host', host, '--port', String(options.port), '--chain-id', String(options.chainId ?? 31_337), '--accounts', '10', '--balance', '10000']
  const blockTime = options.blockTime ?? 1
  if (blockTime > 0) args.push('--block-time', String(blockTime))
  if (options.statePath) {
    mkdirSync(dirname(options.statePath), {recursive: true})
    args.push('--state', options.statePath, '--state-interval', '5')
  }
  mkdirSync(dirname(options.logFile), {recursive: true})
  const log = openSync(options.logFile, 'a')
  const child = spawn(findFoundryBinary('anvil'), args, {stdio: ['ignore', log, log], detached: options.detached ?? false})
  closeSync(log)
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject))
  if (options.detached) child.unref()
  const rpcUrl = `http://${host}:${options.port}`
  const deadline = Date.now() + 20_000
  for (;;) {
    const alive = await Promise.race([
      exited.then(() => false),
      spawnError,
      rpcCall<string>(rpcUrl, 'eth_chainId', [], 1000).then(
        () => true,
        () => undefined,
      ),
    ])
    if (alive === true) break
    if (alive === false)
      throw new ExternalError(`anvil exited while starting; see ${options.logFile}.`, {code: 'ANVIL_FAILED', details: {logFile: options.logFile}})
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new ExternalError(`anvil did not answer on ${rpcUrl} within 20 s; see ${options.logFile}.`, {code: 'ANVIL_FAILED'})
    }
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  return {pid: child.pid!, rpcUrl, child, exited}
}

/** True when a process with this pid exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Stops a process: SIGTERM (anvil dumps its state on it), then SIGKILL after `graceMs`. */
export async function stopProcess(pid: number, graceMs = 10_000): Promise<void> {
  if (!isAlive(pid)) return
  process.kill(pid, 'SIGTERM')
  const deadline = Date.now() + graceMs
  while (isAlive(pid)) {
    if (Date.now() > deadline) {
      process.kill(pid, 'SIGKILL')
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  while (isAlive(pid)) await new Promise((resolve) => setTimeout(resolve, 20))
}

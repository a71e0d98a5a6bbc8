/** What a running demo is made of (recorded in demo.json) and where it lives: its own ogpu home in its directory. */
import {join} from 'node:path'

import type {OgpuPaths} from '../config/paths.js'

export interface DemoWallet {
  name: string
  address: string
  role: 'client' | 'provider'
  /** Providers: the URL their daemon serves at. */
  url?: string
}

/** What the demo is made of (the JSON of `--detach --json`). */
export interface DemoInfo {
  rpcUrl: string
  chainId: number
  contracts: Record<string, string>
  /** The batch task's id. */
  taskId: number
  /** The stream's id (a decimal string). */
  streamId: string
  /** The client gateway: an OpenAI-compatible endpoint (POST /v1/chat/completions) for the stream. */
  gatewayUrl: string
  wallets: DemoWallet[]
  /** The demo's ogpu home: set these to use the CLI against the demo (`ogpu task show ID`). */
  env: {OGPU_CONFIG_DIR: string; OGPU_DATA_DIR: string}
  configDir: string
  dataDir: string
  /** The demo's directory (demo.json, logs). */
  dir: string
  /** Log file of each process, by name. */
  logs: Record<string, string>
  pids: Record<string, number>
  model: {name: string; sha256: string; path: string}
}

/** The paths of the demo's own ogpu home. */
export function demoPaths(dir: string): OgpuPaths {
  return {configDir: join(dir, 'home', 'config'), dataDir: join(dir, 'home', 'data')}
}

/** The environment of a process run against the demo: its home, and none of the user's ogpu overrides. */
export function demoEnv(dir: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const paths = demoPaths(dir)
  const env: NodeJS.ProcessEnv = {...base, OGPU_CONFIG_DIR: paths.configDir, OGPU_DATA_DIR: paths.dataDir}
  for (const key of ['OGPU_WALLET', 'OGPU_NETWORK', 'OGPU_RPC', 'OGPU_PASSWORD']) delete env[key]
  return env
}

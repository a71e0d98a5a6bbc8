import {existsSync, readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import type {InterfaceAbi} from 'ethers'

import {BugError} from '../errors/index.js'

/** The contracts ogpu deploys and talks to. Their ABI and bytecode are produced by `npm run build:contracts`. */
export type ContractName = 'OGPUToken' | 'ProviderRegistry' | 'TaskMarket' | 'StreamMarket'

export interface Artifact {
  contractName: string
  abi: InterfaceAbi
  bytecode: string
}

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const artifactsDir = join(packageRoot, 'artifacts')

const cache = new Map<string, unknown>()

function readJson<T>(file: string): T {
  const cached = cache.get(file)
  if (cached) return cached as T
  if (!existsSync(file))
    throw new BugError(`Contract artifact ${file} is missing.`, {
      code: 'ARTIFACT_MISSING',
      hint: 'Build the contracts first: npm run build',
    })
  const parsed = JSON.parse(readFileSync(file, 'utf8')) as T
  cache.set(file, parsed)
  return parsed
}

export function loadArtifact(name: ContractName): Artifact {
  return readJson<Artifact>(join(artifactsDir, `${name}.json`))
}

/** Every custom error any ogpu contract (or OpenZeppelin below it) can raise, for decoding reverts by name. */
export function loadErrorAbi(): InterfaceAbi {
  return readJson<InterfaceAbi>(join(artifactsDir, 'errors.json'))
}

/**
 * Council duty: a provider joins the council pool of each model it serves (ProviderRegistry.joinCouncil), so that
 * TaskMarket may seat it on councils drawn from the pool, weighted by its stake, on tasks it never bid for. Used by
 * the daemon on start (unless --no-council-duty) and by `ogpu provider council`.
 */
import type {ContractTransactionResponse} from 'ethers'

import {errorText, revertOf} from '../chain/errors.js'
import type {Logger} from './log.js'

/** A write to a council pool (a signer-connected typed contract method, or a fake). */
export interface PoolWrite {
  (model: string, overrides: {gasLimit: bigint}): Promise<ContractTransactionResponse>
  estimateGas(model: string): Promise<bigint>
}

/** What joining needs of the registry (a signer-connected ProviderRegistry, or a fake). */
export interface CouncilRegistry {
  councilModelsOf(provider: string): Promise<string[]>
  MAX_COUNCIL_MODELS(): Promise<bigint>
  joinCouncil: PoolWrite
  leaveCouncil: PoolWrite
}

/**
 * Sends a pool write with half again its estimate as the gas limit. Its cost depends on what the other members
 * write in the same block (each Fenwick node it touches gets a new checkpoint slot, or updates one written in this
 * block), so a bare estimate runs out of gas when several providers join at once (daemons starting together).
 */
async function withHeadroom(write: PoolWrite, model: string): Promise<ContractTransactionResponse> {
  const estimate = await write.estimateGas(model)
  return write(model, {gasLimit: (estimate * 3n) / 2n})
}

export type CouncilSendTx = (what: string, send: () => Promise<ContractTransactionResponse>) => Promise<{hash: string}>

export interface CouncilPoolResult {
  /** Models joined now. */
  joined: string[]
  /** Models already joined before. */
  already: string[]
  /** Models left out, with the reason (the per-provider cap, or a revert such as a full pool). */
  skipped: Array<{model: string; reason: string}>
}

const hex = (model: string): string => `0x${model.replace(/^0x/, '').toLowerCase()}`

/**
 * Joins the pool of every model in `models` (sha256 hex of the GGUF) the provider is not in yet, up to the
 * registry's per-provider cap. A join that reverts (a full pool) is reported, never thrown: council duty is an
 * offer, and serving goes on without it.
 */
export async function joinCouncilPools(options: {
  registry: CouncilRegistry
  provider: string
  models: Iterable<string>
  sendTx: CouncilSendTx
  log?: Pick<Logger, 'info' | 'warn'>
}): Promise<CouncilPoolResult> {
  const {registry, provider, sendTx, log} = options
  const current = new Set((await registry.councilModelsOf(provider)).map(hex))
  const max = Number(await registry.MAX_COUNCIL_MODELS())
  const result: CouncilPoolResult = {joined: [], already: [], skipped: []}
  for (const model of new Set([...options.models].map(hex))) {
    if (current.has(model)) {
      result.already.push(model)
      continue
    }
    if (current.size >= max) {
      result.skipped.push({model, reason: `already in ${max} council pools, the most per provider`})
      continue
    }
    try {
      await sendTx(`Join the council pool of ${model.slice(0, 14)}`, () => withHeadroom(registry.joinCouncil, model))
      current.add(model)
      result.joined.push(model)
    } catch (error) {
      result.skipped.push({model, reason: revertOf(error) ?? errorText(error)})
    }
  }
  if (result.joined.length) log?.info('council', `Joined the council pool of ${result.joined.length} model(s): seats may be drawn for tasks we did not bid on`, {models: result.joined.join(',')})
  for (const s of result.skipped) log?.warn('council', `Not in the council pool of ${s.model.slice(0, 14)}: ${s.reason}`, {model: s.model})
  return result
}

/** Leaves the pool of each of `models` the provider is in; returns the models left. */
export async function leaveCouncilPools(options: {registry: CouncilRegistry; provider: string; models: Iterable<string>; sendTx: CouncilSendTx}): Promise<string[]> {
  const current = new Set((await options.registry.councilModelsOf(options.provider)).map(hex))
  const left: string[] = []
  for (const model of new Set([...options.models].map(hex))) {
    if (!current.has(model)) continue
    await options.sendTx(`Leave the council pool of ${model.slice(0, 14)}`, () => withHeadroom(options.registry.leaveCouncil, model))
    left.push(model)
  }
  return left
}

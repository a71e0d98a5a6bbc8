/**
 * The multi-step stream actions behind `ogpu stream *`: create from a spec, close (and finalize after the notice),
 * leave a stream in two steps, dispute a receipt the gateway saved. Plain options in, plain results out.
 */
import {existsSync, readFileSync} from 'node:fs'

import {getAddress, isAddress, isHexString, type Wallet} from 'ethers'

import {chainTime, formatDuration} from '../chain/account.js'
import type {ChainContext} from '../chain/context.js'
import {type DisputeInfo, getDispute} from '../chain/contracts/stream-market.js'
import {CancelledError, UserError} from '../errors/index.js'
import {recoverReceipt, type Receipt} from '../protocol/stream.js'
import {
  closeStream,
  type CreateResult,
  createStream,
  finalizeClose,
  finishUnsubscribe,
  getStream,
  openDispute,
  type OpenDisputeInput,
  type OpenDisputeResult,
  requestUnsubscribe,
  seatDispute,

  streamDomain,
  subscription,
} from './chain.js'
import {type LoadedStreamSpec, publishStreamSpec, streamParamsOf} from './spec.js'

export interface CreateFromSpecOptions {
  /** Where providers read the terms. Defaults to a file: URI of the published copy (this machine only). */
  specUri?: string
  /** Directory for published terms documents. */
  specsDir: string
}

export interface CreatedStream extends CreateResult {
  specHash: string
  specUri: string
  modelHash: string
}

/** Publishes the spec's terms and creates the stream, escrowing its deposit. */
export async function createFromSpec(chain: ChainContext, wallet: Wallet, loaded: LoadedStreamSpec, options: CreateFromSpecOptions): Promise<CreatedStream> {
  const published = await publishStreamSpec(loaded, {specUri: options.specUri, specsDir: options.specsDir})
  const created = await createStream(chain, wallet, streamParamsOf(loaded.spec, published))
  return {...created, specHash: published.specHash, specUri: published.specUri, modelHash: published.modelHash}
}

/**
 * Waits until a transaction mined now would carry a timestamp >= `until`. The chain's clock runs with the wall clock
 * but may be ahead of it (a devnet whose time was moved forward) and blocks may be rare (a devnet mining on demand),
 * so the clock is estimated as the wall clock plus how far the latest block was ahead of it when the wait began, and
 * never less than the latest block.
 */
export async function waitForChainTime(chain: ChainContext, until: number, options: {signal?: AbortSignal; pollMs?: number} = {}): Promise<void> {
  const pollMs = options.pollMs ?? (chain.network.devnet ? 250 : 2000)
  const wall = () => Math.floor(Date.now() / 1000)
  const ahead = Math.max(0, (await chainTime(chain)) - wall())
  for (;;) {
    if (options.signal?.aborted) throw options.signal.reason ?? new CancelledError()
    const now = Math.max(await chainTime(chain), wall() + ahead)
    // One second of margin: both clocks are read in whole seconds.
    if (now > until) return
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, (until + 1 - now) * 1000)))
  }
}

export interface CloseResult {
  streamId: number
  /** The close transaction (absent when the stream was already closing). */
  closeTx: string | null
  closeAt: string
  /** Set when the close was finalized. */
  finalized: {txHash: string; refund: bigint} | null
}

/**
 * Starts the close notice (unless it already runs) and, with `finalize`, waits it out and finalizes: the deposit
 * comes back and every subscriber is released.
 */
export async function closeStreamFlow(
  chain: ChainContext,
  wallet: Wallet,
  id: bigint,
  options: {finalize?: boolean; signal?: AbortSignal; onWait?: (closeAt: number) => void} = {},
): Promise<CloseResult> {
  const stream = await getStream(chain, id)
  let closeAt = stream.closeAt
  let closeTx: string | null = null
  if (stream.status === 'active') {
    const closed = await closeStream(chain, wallet, id)
    closeAt = closed.closeAt
    closeTx = closed.txHash
  } else if (stream.status === 'closed') {
    throw new UserError(`Stream ${id} is already closed.`, {code: 'STREAM_CLOSED', hint: `See \`ogpu stream show ${id}\`.`})
  } else if (!options.finalize) {
    throw new UserError(`Stream ${id} is already closing (notice until ${new Date(closeAt * 1000).toISOString()}).`, {
      code: 'STREAM_CLOSING',
      hint: `Finalize it after that with \`ogpu stream finalize ${id}\`, or wait for it with \`ogpu stream close ${id} --finalize\`.`,
    })
  }
  let finalized: CloseResult['finalized'] = null
  if (options.finalize) {
    options.onWait?.(closeAt)
    await waitForChainTime(chain, closeAt, {signal: options.signal})
    const done = await finalizeClose(chain, wallet, id)
    finalized = {txHash: done.txHash, refund: done.refund}
  }
  return {streamId: Number(id), closeTx, closeAt: new Date(closeAt * 1000).toISOString(), finalized}
}

export type UnsubscribeResult =
  | {streamId: number; step: 'requested'; txHash: string; noticeEnd: string; noticeSeconds: number}
  | {streamId: number; step: 'finished'; txHash: string; released: bigint}

/**
 * Leaves a stream in its two steps: an active subscription starts its notice; an unsubscribing one whose notice is
 * over finishes (the collateral comes back). With `wait`, both happen in one call.
 */
export async function unsubscribeFlow(
  chain: ChainContext,
  wallet: Wallet,
  id: bigint,
  options: {wait?: boolean; signal?: AbortSignal; onWait?: (noticeEnd: number) => void} = {},
): Promise<UnsubscribeResult> {
  const sub = await subscription(chain, id, wallet.address)
  let noticeEnd = sub.noticeEnd
  if (sub.status === 'none' || sub.status === 'removed')
    throw new UserError(`${wallet.address} is not subscribed to stream ${id}${sub.status === 'removed' ? ' (it was removed by a dispute)' : ''}.`, {
      code: 'NOT_SUBSCRIBED',
      hint: 'Run `ogpu stream list` and `ogpu stream show ID` to see your subscriptions.',
    })
  if (sub.status === 'active') {
    const requested = await requestUnsubscribe(chain, wallet, id)
    noticeEnd = requested.noticeEnd
    if (!options.wait) {
      const now = await chainTime(chain)
      return {streamId: Number(id), step: 'requested', txHash: requested.txHash, noticeEnd: new Date(noticeEnd * 1000).toISOString(), noticeSeconds: Math.max(0, noticeEnd - now)}
    }
  }
  if (options.wait) {
    options.onWait?.(noticeEnd)
    await waitForChainTime(chain, noticeEnd, {signal: options.signal})
  } else {
    const now = await chainTime(chain)
    if (now < noticeEnd && Math.floor(Date.now() / 1000) < noticeEnd)
      throw new UserError(`The unsubscribe notice on stream ${id} runs until ${new Date(noticeEnd * 1000).toISOString()} (${formatDuration(noticeEnd - now)} left).`, {
        code: 'NOTICE_NOT_OVER',
        hint: `Run \`ogpu stream unsubscribe ${id}\` again after that, or add --wait.`,
      })
  }
  const finished = await finishUnsubscribe(chain, wallet, id)
  return {streamId: Number(id), step: 'finished', txHash: finished.txHash, released: finished.released}
}

/**
 * Reads the JSON the gateway writes for a disputable response: {provider, receipt, signature, evidenceUri}, the
 * receipt as on the wire (streamId a decimal string). Every field is checked and named when wrong.
 */
export function readReceiptFile(path: string): OpenDisputeInput {
  if (!existsSync(path)) throw new UserError(`Receipt file ${path} does not exist.`, {code: 'FILE_NOT_FOUND'})
  let parsed: any
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new UserError(`Receipt file ${path} is not valid JSON.`, {code: 'INVALID_RECEIPT', cause: error})
  }
  const bad = (field: string, what: string) =>
    new UserError(`Receipt file ${path}: ${field} ${what}.`, {code: 'INVALID_RECEIPT', hint: 'Use the file the gateway saved for the response: {provider, receipt, signature, evidenceUri}.'})
  if (!parsed || typeof parsed !== 'object') throw bad('(top level)', 'must be a JSON object')
  if (typeof parsed.provider !== 'string' || !isAddress(parsed.provider)) throw bad('provider', 'must be an address')
  if (typeof parsed.signature !== 'string' || !isHexString(parsed.signature)) throw bad('signature', 'must be a 0x hex string')
  if (parsed.evidenceUri !== undefined && typeof parsed.evidenceUri !== 'string') throw bad('evidenceUri', 'must be a string')
  const r = parsed.receipt
  if (!r || typeof r !== 'object') throw bad('receipt', 'is missing')
  if (!(typeof r.streamId === 'string' || typeof r.streamId === 'number') || !/^[0-9]+$/.test(String(r.streamId))) throw bad('receipt.streamId', 'must be a decimal stream id')
  for (const field of ['requestId', 'responseHash'] as const)
    if (typeof r[field] !== 'string' || !isHexString(r[field], 32)) throw bad(`receipt.${field}`, 'must be 32 bytes of 0x hex')
  for (const field of ['promptTokens', 'completionTokens'] as const)
    if (!Number.isInteger(r[field]) || r[field] < 0 || r[field] > 0xffffffff) throw bad(`receipt.${field}`, 'must be a whole number of tokens')
  const receipt: Receipt = {streamId: BigInt(r.streamId), requestId: r.requestId, responseHash: r.responseHash, promptTokens: r.promptTokens, completionTokens: r.completionTokens}
  return {provider: getAddress(parsed.provider), receipt, signature: parsed.signature, evidenceUri: parsed.evidenceUri ?? ''}
}

/**
 * Checks a dispute before paying its bond: the receipt must be signed by the named provider, not disputed before, and
 * the signer must be the stream's client.
 */
export async function checkDispute(chain: ChainContext, wallet: Wallet, input: OpenDisputeInput): Promise<void> {
  const domain = streamDomain(chain)
  let signer: string
  try {
    signer = recoverReceipt(domain, input.receipt, input.signature)
  } catch (error) {
    throw new UserError('The receipt signature is malformed.', {code: 'INVALID_RECEIPT', cause: error})
  }
  if (signer !== getAddress(input.provider))
    throw new UserError(`The receipt is signed by ${signer}, not by the provider it names (${input.provider}).`, {
      code: 'INVALID_RECEIPT',
      hint: 'A dispute needs the receipt exactly as the provider signed it (and the network it was signed on).',
    })
  if (getAddress(input.provider) === wallet.address)
    throw new UserError(`${wallet.address} is the provider this receipt names: a provider cannot dispute its own response.`, {
      code: 'SELF_DISPUTE',
      hint: 'Dispute with another wallet (--wallet): the client, another subscriber or any account can, paying the bond.',
    })
  await getStream(chain, input.receipt.streamId) // UNKNOWN_STREAM before any bond is paid
}

export interface DisputeFlowResult extends OpenDisputeResult {
  /** The dispute as the chain has it after the seating attempt: open (seated: council, windows), seating, or no-council. */
  dispute: DisputeInfo
  /** The seatDispute transaction sent here (absent when another account seated it first, or it failed). */
  seatTxHash?: string
  /** Why the council is not seated yet (state seating): anyone may seat it later. */
  pendingReason?: string
}

/**
 * Checks and opens a dispute, then seats its council from the staked pool as soon as a block past the draw block is
 * mined (up to `seatWaitMs`, defaults to 60 s). A seating that fails leaves the dispute open and Seating: providers'
 * daemons seat it, or `ogpu stream dispute seat ID`.
 */
export async function disputeFlow(chain: ChainContext, wallet: Wallet, input: OpenDisputeInput, options: {seatWaitMs?: number} = {}): Promise<DisputeFlowResult> {
  await checkDispute(chain, wallet, input)
  const opened = await openDispute(chain, wallet, input)
  let seatTxHash: string | undefined
  let pendingReason: string | undefined
  try {
    let seated = await seatDispute(chain, wallet, opened.disputeId, {waitMs: options.seatWaitMs})
    if (seated.outcome === 'reanchored') seated = await seatDispute(chain, wallet, opened.disputeId, {waitMs: options.seatWaitMs})
    seatTxHash = seated.txHash
  } catch (error) {
    pendingReason = error instanceof Error ? error.message : String(error)
  }
  const dispute = await getDispute(chain, opened.disputeId)
  return {...opened, dispute, ...(seatTxHash ? {seatTxHash} : {}), ...(dispute.state === 'seating' && pendingReason ? {pendingReason} : {})}
}

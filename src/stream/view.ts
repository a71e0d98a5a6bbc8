/**
 * Streams as the CLI shows them (`--json` shapes): a stream with its subscribers (endpoint, status, collateral,
 * redeemed, endpoint health), what the client has spent, and its open disputes.
 */
import {chainTime} from '../chain/account.js'
import type {ChainContext} from '../chain/context.js'
import {type AmountJson, amountJson} from '../chain/units.js'
import {UserError} from '../errors/index.js'
import {
  type DisputeInfo,
  findDispute,
  getStream,
  type ListStreamsOptions,
  listStreams,
  redeemed,
  type StreamInfo,
  type StreamStatus,
  subscribersOf,
  subscription,
  type SubscriptionStatus,
} from './chain.js'

const iso = (seconds: number): string | null => (seconds > 0 ? new Date(seconds * 1000).toISOString() : null)

/** A stream as `--json` prints it: amounts as decimal strings with their wei, times as ISO strings. */
export interface StreamJson {
  id: number
  status: StreamStatus
  client: string
  modelHash: string
  specHash: string
  specUri: string
  prices: {generatedPerKToken: AmountJson; verifiedPerKToken: AmountJson}
  council: {size: number; method: string; weightBps: number}
  collateral: AmountJson
  maxDowntimeSeconds: number
  notice: {unsubscribeSeconds: number; closeSeconds: number}
  disputes: {bond: AmountJson; commitWindowSeconds: number; revealWindowSeconds: number; nonRevealSlash: AmountJson; voterRewardBps: number}
  /** The unreserved deposit (what no allowance reserves). */
  deposit: AmountJson
  createdAt: string | null
  /** End of the close notice (null while active). */
  closeAt: string | null
  /** Whether `ogpu stream finalize` can run now (closing, notice over, no open dispute). */
  finalizable: boolean
  subscriberCount: number
  openDisputeCount: number
}

export function streamJson(s: StreamInfo, now: number): StreamJson {
  return {
    id: Number(s.id),
    status: s.status,
    client: s.client,
    modelHash: s.modelHash,
    specHash: s.specHash,
    specUri: s.specUri,
    prices: {generatedPerKToken: amountJson(s.pricePerKTokenGenerated), verifiedPerKToken: amountJson(s.pricePerKTokenVerified)},
    council: {size: s.councilSize, method: s.responseMethod, weightBps: s.weightBps},
    collateral: amountJson(s.collateral),
    maxDowntimeSeconds: s.maxDowntime,
    notice: {unsubscribeSeconds: s.unsubscribeNotice, closeSeconds: s.closeNotice},
    disputes: {
      bond: amountJson(s.disputeBond),
      commitWindowSeconds: s.commitWindow,
      revealWindowSeconds: s.revealWindow,
      nonRevealSlash: amountJson(s.nonRevealSlash),
      voterRewardBps: s.voterRewardBps,
    },
    deposit: amountJson(s.deposit),
    createdAt: iso(s.createdAt),
    closeAt: iso(s.closeAt),
    finalizable: s.status === 'closing' && now >= s.closeAt && s.openDisputes === 0,
    subscriberCount: s.subscriberCount,
    openDisputeCount: s.openDisputes,
  }
}

export interface DisputeJson {
  id: number
  streamId: number
  provider: string
  /** Who opened it and paid the bond. */
  disputer: string
  state: string
  receipt: {requestId: string; responseHash: string; promptTokens: number; completionTokens: number}
  bond: AmountJson
  /** Empty until seated (state seating). */
  council: string[]
  /** The block whose hash seeds the council draw. */
  drawBlock: number
  openedAt: string | null
  commitEnd: string | null
  revealEnd: string | null
  commits: number
  reveals: number
  approvals: number
  rejections: number
  /** Whether `ogpu stream dispute finalize` can run now (open, and the reveal phase over or every seat revealed). */
  finalizable: boolean
}

export function disputeJson(d: DisputeInfo, now: number): DisputeJson {
  return {
    id: Number(d.id),
    streamId: Number(d.streamId),
    provider: d.provider,
    disputer: d.disputer,
    state: d.state,
    receipt: {requestId: d.receipt.requestId, responseHash: d.receipt.responseHash, promptTokens: d.receipt.promptTokens, completionTokens: d.receipt.completionTokens},
    bond: amountJson(d.bond),
    council: d.council,
    drawBlock: d.drawBlock,
    openedAt: iso(d.openedAt),
    commitEnd: iso(d.commitEnd),
    revealEnd: iso(d.revealEnd),
    commits: d.commits,
    reveals: d.reveals,
    approvals: d.approvals,
    rejections: d.rejections,
    finalizable: d.state === 'open' && (now >= d.revealEnd || d.reveals === d.council.length),
  }
}

/** What GET {endpoint}/health said. */
export type EndpointHealth = {state: 'live'; httpStatus: number} | {state: 'unhealthy'; httpStatus: number} | {state: 'unreachable'; reason: string} | {state: 'unchecked'}

/** GET {endpoint}/health: live on a 2xx within `timeoutMs`, unhealthy on another status, unreachable otherwise. */
export async function checkEndpoint(endpoint: string, timeoutMs: number): Promise<EndpointHealth> {
  if (!/^https?:\/\//.test(endpoint)) return {state: 'unreachable', reason: `"${endpoint}" is not an http(s) URL`}
  try {
    const response = await fetch(`${endpoint.replace(/\/$/, '')}/health`, {signal: AbortSignal.timeout(timeoutMs)})
    await response.body?.cancel()
    return response.ok ? {state: 'live', httpStatus: response.status} : {state: 'unhealthy', httpStatus: response.status}
  } catch (error) {
    const e = error as Error & {cause?: {code?: string}}
    const reason = e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message)
    return {state: 'unreachable', reason}
  }
}

export interface SubscriberJson {
  address: string
  endpoint: string
  status: SubscriptionStatus
  locked: AmountJson
  /** Its allowance left: the part of the deposit only its redeems can spend. */
  allowance: AmountJson
  redeemed: AmountJson
  subscribedAt: string | null
  /** While unsubscribing: when it may leave. */
  noticeEnd: string | null
  /** The open dispute accusing it, or null. */
  openDispute: number | null
  health: EndpointHealth
}

export interface StreamDetailJson extends StreamJson {
  subscribers: SubscriberJson[]
  /** The subscribers' allowances left, summed (the stream's funds beyond the unreserved deposit). */
  reserved: AmountJson
  /** What the client has paid so far: everything its subscribers redeemed. */
  spent: AmountJson
  openDisputes: DisputeJson[]
}

export interface ShowStreamOptions {
  /** Check each subscriber's GET /health. Defaults to true. */
  health?: boolean
  /** Milliseconds per health check. Defaults to 1500. */
  healthTimeoutMs?: number
}

/**
 * One stream in full: its terms, each current subscriber (endpoint, status, locked collateral, redeemed, health), the
 * client's spend and the open disputes. Spend counts current subscribers (a departed provider's redemptions are not
 * visible without an event scan).
 */
export async function showStream(chain: ChainContext, id: bigint, options: ShowStreamOptions = {}): Promise<StreamDetailJson> {
  const [stream, now] = await Promise.all([getStream(chain, id), chainTime(chain)])
  const addresses = await subscribersOf(chain, id)
  const timeoutMs = options.healthTimeoutMs ?? 1500
  const subscribers = await Promise.all(
    addresses.map(async (address): Promise<SubscriberJson & {_redeemed: bigint; _allowance: bigint}> => {
      const [sub, paid, registered] = await Promise.all([
        subscription(chain, id, address),
        redeemed(chain, id, address),
        chain.registry.providerOf(address),
      ])
      const endpoint = registered.endpoint
      const health: EndpointHealth = options.health === false ? {state: 'unchecked'} : await checkEndpoint(endpoint, timeoutMs)
      return {
        address,
        endpoint,
        status: sub.status,
        locked: amountJson(sub.locked),
        allowance: amountJson(sub.allowance),
        redeemed: amountJson(paid),
        subscribedAt: iso(sub.subscribedAt),
        noticeEnd: iso(sub.noticeEnd),
        openDispute: sub.openDispute === 0n ? null : Number(sub.openDispute),
        health,
        _redeemed: paid,
        _allowance: sub.allowance,
      }
    }),
  )
  const disputeIds = [...new Set(subscribers.map((s) => s.openDispute).filter((d): d is number => d !== null))].sort((a, b) => a - b)
  const disputes = (await Promise.all(disputeIds.map((d) => findDispute(chain, d)))).filter((d): d is DisputeInfo => d !== undefined)
  const spent = subscribers.reduce((sum, s) => sum + s._redeemed, 0n)
  return {
    ...streamJson(stream, now),
    subscribers: subscribers.map(({_redeemed, _allowance, ...s}) => s),
    reserved: amountJson(subscribers.reduce((sum, s) => sum + s._allowance, 0n)),
    spent: amountJson(spent),
    openDisputes: disputes.map((d) => disputeJson(d, now)),
  }
}

/** Streams for `ogpu stream list`, newest first. */
export async function streamRows(chain: ChainContext, options: ListStreamsOptions): Promise<{total: number; streams: StreamJson[]; now: number}> {
  const [page, now] = await Promise.all([listStreams(chain, options), chainTime(chain)])
  return {total: page.total, streams: page.streams.map((s) => streamJson(s, now)), now}
}

const STATUSES: readonly StreamStatus[] = ['active', 'closing', 'closed']

/** Parses a --status value. */
export function parseStreamStatus(value: string): StreamStatus {
  const status = value.toLowerCase() as StreamStatus
  if (!STATUSES.includes(status)) throw new UserError(`Unknown stream status "${value}".`, {code: 'INVALID_STATUS', hint: `Use one of: ${STATUSES.join(', ')}.`})
  return status
}

/** Parses a stream or dispute id typed by a user. */
export function parseId(value: string, what = 'stream'): bigint {
  if (!/^[0-9]+$/.test(value.trim()) || BigInt(value.trim()) === 0n)
    throw new UserError(`"${value}" is not a ${what} id (a positive whole number).`, {
      code: 'INVALID_ID',
      hint: what === 'stream' ? 'Run `ogpu stream list` to see the ids.' : 'Open disputes are listed by `ogpu stream show STREAM_ID`.',
    })
  return BigInt(value.trim())
}

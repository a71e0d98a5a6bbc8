/** Following a started demo: waiting on the chain and the providers, then reporting the batch task and the stream. */
import {join} from 'node:path'

import {openChain} from '../chain/context.js'
import {amountJson} from '../chain/units.js'
import type {OgpuPaths} from '../config/paths.js'
import {BugError, ExternalError} from '../errors/index.js'
import {MarketIndexer} from '../market/indexer.js'
import {TASK_STATUS} from '../market/types.js'
import {getStream, subscribersOf} from '../stream/chain.js'
import type {DemoInfo} from './info.js'
import {type BatchReport, batchReport} from './report.js'
import {type DemoResponse, type ProviderStreamFigures, providerStreamFigures, type StreamReport} from './stream.js'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it gives a value; an ExternalError (DEMO_TIMEOUT) naming `what` after `timeoutMs`. */
export async function waitUntil<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    signal?.throwIfAborted()
    const value = await check()
    if (value !== undefined) return value
    if (Date.now() > deadline) throw new ExternalError(`Timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}.`, {code: 'DEMO_TIMEOUT'})
    await sleep(250)
  }
}

/** Follows the batch task on chain until it ends, then reads its whole story from the events. */
export async function waitForBatch(paths: OgpuPaths, info: DemoInfo, options: {timeoutMs?: number; signal?: AbortSignal}): Promise<BatchReport> {
  const chain = await openChain({paths})
  try {
    await waitUntil(
      async () => {
        const task = await chain.market.getTask(info.taskId)
        const status = TASK_STATUS[Number(task.status)]!
        return ['finalized', 'failed', 'expired', 'cancelled'].includes(status) ? status : undefined
      },
      `batch task ${info.taskId} to end (see the provider logs in ${join(info.dir, 'logs')})`,
      options.timeoutMs ?? 600_000,
      options.signal,
    )
    const indexer = new MarketIndexer({provider: chain.provider, market: chain.network.contracts.taskMarket, fromBlock: chain.network.deployBlock})
    await indexer.sync()
    const task = indexer.task(info.taskId)
    if (!task) throw new BugError(`Task ${info.taskId} ended on chain but the indexer has no events for it.`)
    return batchReport(task, info.wallets)
  } finally {
    chain.dispose()
  }
}

/**
 * The stream's report: subscribers from the chain, figures from each provider's status endpoint, once every response
 * of the demo is paid by a voucher (the gateway sends them after each response; the providers store them).
 */
export async function streamReport(paths: OgpuPaths, info: DemoInfo, responses: DemoResponse[], options: {timeoutMs?: number; signal?: AbortSignal}): Promise<StreamReport> {
  const chain = await openChain({paths})
  try {
    const stream = await getStream(chain, BigInt(info.streamId))
    const subscribers = await subscribersOf(chain, BigInt(info.streamId))
    const party = (address: string) => ({address, wallet: info.wallets.find((w) => w.address.toLowerCase() === address.toLowerCase())?.name ?? null})
    const providers = info.wallets.filter((w) => w.role === 'provider' && w.url).map((w) => ({address: w.address, wallet: w.name, url: w.url!}))
    const figures = await waitUntil(
      async () => {
        const read = (await Promise.all(providers.map((p) => providerStreamFigures(p, info.streamId, options.signal)))).filter((f): f is ProviderStreamFigures => f !== null)
        const generated = read.reduce((n, f) => n + f.requests, 0)
        const unpaid = read.some((f) => BigInt(f.charged.wei) > 0n && (f.voucher === null || BigInt(f.voucher.wei) < BigInt(f.charged.wei)))
        return generated >= responses.length && !unpaid ? read : undefined
      },
      `the providers to record the vouchers of stream ${info.streamId}`,
      options.timeoutMs ?? 60_000,
      options.signal,
    )
    const vouchers = figures.reduce((sum, f) => sum + BigInt(f.voucher?.wei ?? '0'), 0n)
    return {
      streamId: info.streamId,
      councilSize: stream.councilSize,
      responseMethod: stream.responseMethod,
      subscribers: subscribers.map(party),
      responses,
      tokens: responses.reduce((n, r) => n + r.completionTokens, 0),
      providers: figures,
      vouchers: amountJson(vouchers),
    }
  } finally {
    chain.dispose()
  }
}

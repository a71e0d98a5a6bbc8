/**
 * Bidding strategies: given a task the daemon can run and what running it costs, the price to bid (or no bid).
 *
 * - `cost-plus` (default): cost × (1 + margin), at least the provider's minimum (min-price-per-1k × the task's output
 *   budget), at most the task's max price. No bid when cost or minimum exceed the max price.
 * - `undercut`: the current best bid minus a step, never below max(cost, minimum); cost-plus when there is no bid yet.
 * - `script:PATH`: runs PATH with the task as JSON on stdin; it prints `{"price": "12.5"}` (oGPU) or `{"bid": false}`.
 *   No answer within 5 s, a non-zero exit or unreadable output is no bid (like Akash's bid price scripts).
 * - `module:PATH`: imports a JS module exporting `bid(task, context)` (sync or async) that returns the same shapes.
 */
import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

import {formatAmount, parseAmount} from '../chain/units.js'
import {UserError} from '../errors/index.js'

/** What a strategy sees of a task (amounts in base units). */
export interface StrategyTask {
  id: number
  client: string
  modelHash: string
  itemCount: number
  checkpoints: number
  maxTokens: number
  /** Tokens the task may generate: items × maxTokens. */
  outputTokens: number
  /** Prompt tokens of all items, as this provider tokenizes them. */
  promptTokens: number
  maxPrice: bigint
  collateral: bigint
  councilFeePerVote: bigint
  councilSize: number
  maxBids: number
  /** Unix seconds. */
  biddingEnd: number
  bids: Array<{provider: string; price: bigint}>
  /** The best (lowest) bid so far. */
  bestPrice?: bigint
}

export interface StrategyInput {
  task: StrategyTask
  /** Estimated GPU seconds to run the task (from this provider's benchmark) and their cost. */
  estimate: {seconds: number; cost: bigint}
  /** The provider's minimum for this task: min-price-per-1k × outputTokens / 1000. */
  minPrice: bigint
  /** Margin of cost-plus, e.g. 0.2 for 20 %. */
  margin: number
  /** The provider's address. */
  address: string
}

export type BidDecision = {bid: true; price: bigint} | {bid: false; reason: string}

export interface Strategy {
  /** e.g. "cost-plus", "script:/path/price.sh". */
  readonly name: string
  decide(input: StrategyInput): Promise<BidDecision>
}

export const STRATEGY_TIMEOUT_MS = 5000

const max = (...values: bigint[]) => values.reduce((a, b) => (b > a ? b : a))
const min = (...values: bigint[]) => values.reduce((a, b) => (b < a ? b : a))
const PPM = 1_000_000n

/** cost × (1 + margin), rounded up. */
export function withMargin(cost: bigint, margin: number): bigint {
  const factor = BigInt(Math.round((1 + margin) * Number(PPM)))
  return (cost * factor + PPM - 1n) / PPM
}

/** The lowest price this provider accepts for a task: its cost and its minimum. */
export const floorOf = (input: StrategyInput): bigint => max(input.estimate.cost, input.minPrice, 1n)

export function costPlus(input: StrategyInput): BidDecision {
  const {task} = input
  const floor = floorOf(input)
  if (floor > task.maxPrice)
    return {bid: false, reason: `the max price ${formatAmount(task.maxPrice)} oGPU is below this provider's floor of ${formatAmount(floor)} oGPU (cost ${formatAmount(input.estimate.cost)}, minimum ${formatAmount(input.minPrice)})`}
  return {bid: true, price: min(max(withMargin(input.estimate.cost, input.margin), input.minPrice, 1n), task.maxPrice)}
}

export function undercut(input: StrategyInput, step?: bigint): BidDecision {
  const {task} = input
  if (task.bestPrice === undefined) return costPlus(input)
  const floor = floorOf(input)
  if (floor > task.maxPrice) return costPlus(input) // the same refusal
  const by = step ?? max(task.bestPrice / 100n, 1n)
  const target = task.bestPrice - by
  return {bid: true, price: min(max(target, floor), task.maxPrice)}
}

/** The JSON a price script or module receives: amounts as decimal oGPU strings. */
export function strategyJson(input: StrategyInput): Record<string, unknown> {
  const {task} = input
  return {
    task: {
      id: task.id,
      client: task.client,
      modelHash: task.modelHash,
      itemCount: task.itemCount,
      checkpoints: task.checkpoints,
      maxTokens: task.maxTokens,
      outputTokens: task.outputTokens,
      promptTokens: task.promptTokens,
      maxPrice: formatAmount(task.maxPrice),
      collateral: formatAmount(task.collateral),
      councilFeePerVote: formatAmount(task.councilFeePerVote),
      councilSize: task.councilSize,
      maxBids: task.maxBids,
      biddingEnd: task.biddingEnd,
      bids: task.bids.map((b) => ({provider: b.provider, price: formatAmount(b.price)})),
      bestPrice: task.bestPrice === undefined ? null : formatAmount(task.bestPrice),
    },
    estimate: {seconds: input.estimate.seconds, cost: formatAmount(input.estimate.cost)},
    minPrice: formatAmount(input.minPrice),
    costPlus: (() => {
      const d = costPlus(input)
      return d.bid ? formatAmount(d.price) : null
    })(),
    address: input.address,
  }
}

/** Reads a script's or module's answer: {price} (decimal oGPU string or number, or bigint base units) or {bid: false}. */
export function readAnswer(answer: unknown, input: StrategyInput, source: string): BidDecision {
  if (answer === null || answer === undefined) return {bid: false, reason: `${source} gave no answer`}
  if (typeof answer !== 'object') return {bid: false, reason: `${source} answered ${JSON.stringify(answer)}, not {"price": ...} or {"bid": false}`}
  const a = answer as {bid?: unknown; price?: unknown; reason?: unknown}
  if (a.bid === false) return {bid: false, reason: typeof a.reason === 'string' ? `${source}: ${a.reason}` : `${source} declined`}
  let price: bigint
  try {
    if (typeof a.price === 'bigint') price = a.price
    else if (typeof a.price === 'string' || typeof a.price === 'number') price = parseAmount(String(a.price), 'price')
    else return {bid: false, reason: `${source} answered without a price`}
  } catch (error) {
    return {bid: false, reason: `${source} answered an unreadable price: ${(error as Error).message}`}
  }
  if (price <= 0n) return {bid: false, reason: `${source} answered a price of 0`}
  if (price > input.task.maxPrice)
    return {bid: false, reason: `${source} answered ${formatAmount(price)} oGPU, above the max price of ${formatAmount(input.task.maxPrice)}`}
  return {bid: true, price}
}

/** Runs a price script: the input as JSON on stdin, one JSON answer on stdout (its last non-empty line), 5 s at most. */
export function runPriceScript(path: string, input: StrategyInput, timeoutMs = STRATEGY_TIMEOUT_MS): Promise<BidDecision> {
  const source = `price script ${path}`
  return new Promise((resolvePromise) => {
    const js = /\.[cm]?js$/.test(path)
    const child = spawn(js ? process.execPath : path, js ? [path] : [], {stdio: ['pipe', 'pipe', 'pipe'], env: {...process.env, OGPU_PASSWORD: undefined}})
    let stdout = ''
    let stderr = ''
    let settled = false
    const done = (decision: BidDecision) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolvePromise(decision)
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      done({bid: false, reason: `${source} did not answer within ${timeoutMs / 1000} s`})
    }, timeoutMs)
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', (error) => done({bid: false, reason: `${source} could not run: ${error.message}`}))
    child.on('close', (code) => {
      if (code !== 0) return done({bid: false, reason: `${source} exited with ${code}${stderr.trim() ? `: ${stderr.trim().split('\n').at(-1)}` : ''}`})
      const line = stdout.trim().split('\n').filter((l) => l.trim()).at(-1)
      let answer: unknown
      try {
        answer = line === undefined ? undefined : JSON.parse(line)
      } catch {
        return done({bid: false, reason: `${source} printed ${JSON.stringify(line)}, not JSON`})
      }
      done(readAnswer(answer, input, source))
    })
    child.stdin.on('error', () => {}) // a script that does not read stdin
    child.stdin.end(`${JSON.stringify(strategyJson(input))}\n`)
  })
}

type BidFunction = (task: Record<string, unknown>, context: Record<string, unknown>) => unknown

/** Parses --strategy and checks what it names exists. */
export function createStrategy(spec: string, options: {undercutStep?: bigint; timeoutMs?: number} = {}): Strategy {
  const timeoutMs = options.timeoutMs ?? STRATEGY_TIMEOUT_MS
  if (spec === 'cost-plus') return {name: spec, decide: async (input) => costPlus(input)}
  if (spec === 'undercut') return {name: spec, decide: async (input) => undercut(input, options.undercutStep)}
  const match = /^(script|module):(.+)$/.exec(spec)
  if (!match)
    throw new UserError(`Unknown strategy "${spec}".`, {code: 'INVALID_STRATEGY', hint: 'Use cost-plus, undercut, script:PATH or module:PATH.'})
  const path = resolve(match[2]!)
  if (!existsSync(path)) throw new UserError(`The ${match[1]} ${path} does not exist.`, {code: 'INVALID_STRATEGY'})
  if (match[1] === 'script') return {name: `script:${path}`, decide: (input) => runPriceScript(path, input, timeoutMs)}
  let loaded: Promise<BidFunction> | undefined
  const load = () =>
    (loaded ??= import(pathToFileURL(path).href).then((mod: {bid?: unknown; default?: {bid?: unknown}}) => {
      const fn = mod.bid ?? mod.default?.bid
      if (typeof fn !== 'function') throw new UserError(`The module ${path} does not export a function bid(task, context).`, {code: 'INVALID_STRATEGY'})
      return fn as BidFunction
    }))
  return {
    name: `module:${path}`,
    load: async () => {
      await load()
    },
    decide: async (input) => {
      const source = `bid module ${path}`
      const json = strategyJson(input)
      let timer: NodeJS.Timeout | undefined
      try {
        const fn = await load()
        const answer = await Promise.race([
          Promise.resolve(fn(json.task as Record<string, unknown>, {...json, costPlusDecision: costPlus(input)})),
          new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs))),
        ])
        return readAnswer(answer, input, source)
      } catch (error) {
        if (error instanceof UserError) throw error
        return {bid: false, reason: `${source} failed: ${(error as Error).message}`}
      } finally {
        clearTimeout(timer)
      }
    },
  } as Strategy & {load(): Promise<void>}
}

/** Loads a module strategy now, so a broken module fails at start rather than at the first task. */
export async function preloadStrategy(strategy: Strategy): Promise<void> {
  const loader = (strategy as Strategy & {load?: () => Promise<void>}).load
  if (loader) await loader()
}

// ------------------------------------------------------------------ stream subscriptions

/** What the subscription decision sees of a stream (amounts in base units). */
export interface StreamOffer {
  id: bigint
  client: string
  status: string
  /** Whether this provider holds the stream's model. */
  modelHeld: boolean
  pricePerKTokenGenerated: bigint
  collateral: bigint
  subscriberCount: number
  /** The provider's subscription to it (none, active, unsubscribing, removed). */
  subscription: string
}

export type SubscribeDecision = {subscribe: true} | {subscribe: false; reason: string}

/**
 * The lowest price per 1,000 generated tokens worth serving: the GPU time of 1,000 tokens at the benchmark's speed,
 * priced at `gpuSecondPrice`, plus the margin (cost-plus, as bids).
 */
export function streamPriceFloor(generateTokensPerSecond: number, gpuSecondPrice: bigint, margin: number): bigint {
  const seconds = 1000 / Math.max(generateTokensPerSecond, 1e-6)
  const cost = (gpuSecondPrice * BigInt(Math.ceil(seconds * 1e6))) / 1_000_000n
  return withMargin(cost, margin)
}

/** Whether to subscribe to a stream: active, its model held, its price ≥ the floor, collateral coverable by free stake. */
export function decideStreamSubscription(offer: StreamOffer, options: {address: string; minPricePer1k: bigint; freeStake: bigint; maxSubscribers?: number}): SubscribeDecision {
  if (offer.subscription !== 'none') return {subscribe: false, reason: `already ${offer.subscription}`}
  if (offer.status !== 'active') return {subscribe: false, reason: `the stream is ${offer.status}`}
  if (offer.client.toLowerCase() === options.address.toLowerCase()) return {subscribe: false, reason: 'it is our own stream'}
  if (!offer.modelHeld) return {subscribe: false, reason: 'its model is not held'}
  if (offer.subscriberCount >= (options.maxSubscribers ?? 32)) return {subscribe: false, reason: 'the subscriber cap is reached'}
  if (offer.pricePerKTokenGenerated < options.minPricePer1k)
    return {subscribe: false, reason: `price ${formatAmount(offer.pricePerKTokenGenerated)} oGPU per 1k tokens is below our ${formatAmount(options.minPricePer1k)}`}
  if (options.freeStake < offer.collateral) return {subscribe: false, reason: `free stake ${formatAmount(options.freeStake)} oGPU is below the collateral ${formatAmount(offer.collateral)}`}
  return {subscribe: true}
}

import {keccak256, toUtf8Bytes} from 'ethers'

import {formatAmount} from '../chain/units.js'
import {canonicalJson} from '../protocol/canonical.js'
import {fetchDataUri} from '../protocol/task-data.js'
import type {MarketIndexer} from './indexer.js'

export interface PriceSample {
  taskId: number
  /** Winning price per 1000 generated tokens (max tokens × items), in base units. */
  perKiloToken: bigint
}

export interface Estimate {
  modelHash: string
  /** Tokens the new task may generate: items × maxTokens. */
  tokens: number
  samples: number
  /** Median winning price per 1k tokens over the samples, or null without samples. */
  perKiloToken: string | null
  low: string | null
  high: string | null
  /** Predicted price of the whole task, or null without samples. */
  predicted: string | null
  /** Fraction of the max price the prediction is, or null. */
  ofMaxPrice: number | null
}

const specCache = new Map<string, number | undefined>()

/** maxTokens of a published spec, read from its URI and checked against its hash; undefined when unreadable. */
async function maxTokensOf(specUri: string, specHash: string): Promise<number | undefined> {
  if (specCache.has(specHash)) return specCache.get(specHash)
  let maxTokens: number | undefined
  try {
    const document = JSON.parse(await fetchDataUri(specUri, {maxBytes: 1 << 20, timeoutMs: 5000})) as {instructions?: {maxTokens?: number}}
    if (keccak256(toUtf8Bytes(canonicalJson(document))) === specHash) maxTokens = document.instructions?.maxTokens
  } catch {
    maxTokens = undefined
  }
  specCache.set(specHash, maxTokens)
  return maxTokens
}

/**
 * Predicts what a task will cost from the recent winning bids for the same model, normalised per 1000 tokens of
 * output (items × maxTokens). Uses the last `window` assigned tasks of that model whose spec can be read.
 */
export async function estimatePrice(
  indexer: MarketIndexer,
  spec: {modelHash: string; items: number; maxTokens: number; maxPrice: bigint},
  options: {window?: number} = {},
): Promise<Estimate> {
  const window = options.window ?? 20
  const candidates = indexer
    .tasks()
    .filter((t) => t.modelHash.toLowerCase() === spec.modelHash.toLowerCase() && t.price !== undefined)
    .sort((a, b) => (b.assignedBlock ?? 0) - (a.assignedBlock ?? 0))
  const samples: PriceSample[] = []
  for (const task of candidates) {
    if (samples.length >= window) break
    const maxTokens = await maxTokensOf(task.specUri, task.specHash)
    if (!maxTokens) continue
    samples.push({taskId: task.id, perKiloToken: (task.price! * 1000n) / BigInt(task.itemCount * maxTokens)})
  }
  const tokens = spec.items * spec.maxTokens
  if (samples.length === 0)
    return {modelHash: spec.modelHash, tokens, samples: 0, perKiloToken: null, low: null, high: null, predicted: null, ofMaxPrice: null}
  const sorted = samples.map((s) => s.perKiloToken).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2n
  const predicted = (median * BigInt(tokens)) / 1000n
  return {
    modelHash: spec.modelHash,
    tokens,
    samples: samples.length,
    perKiloToken: formatAmount(median),
    low: formatAmount(sorted[0]!),
    high: formatAmount(sorted.at(-1)!),
    predicted: formatAmount(predicted),
    ofMaxPrice: spec.maxPrice > 0n ? Number((predicted * 10_000n) / spec.maxPrice) / 10_000 : null,
  }
}

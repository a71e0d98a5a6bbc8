/**
 * A council member's check of a checkpoint: the same code runs in the daemon (council duty) and in
 * `ogpu council verify`.
 *
 * 1. Its sample: `sampleIndices(memberSampleSeed(taskId, k, member), first, end, sampleSize)`.
 * 2. Each sampled item fetched from the executor with a signed request (EIP-712 ItemsRequest).
 * 3. Each item checked: its proofs against the data root and the committed result root (`checkServedItem`); the
 *    prompt re-built exactly as the executor builds it (`buildPrompt`) with the claimed prompt length; the claimed
 *    token ids decoding to the claimed completion; at most maxTokens of them; finishReason consistent with the last
 *    token; and then the spec's equivalence: `prefill` (verifyCompletion with the spec's ε and max rank), `exact`
 *    (greedy generation must give the same ids) or `none` (proofs only).
 *
 * The verdict is accept iff every sampled item passes: a missing item, a refused request or an unreachable executor
 * is a reject.
 */
import {AbiCoder, keccak256, type Wallet} from 'ethers'
import type {TypedDataDomain} from 'ethers'

import type {ChainContext} from '../chain/context.js'
import {effectiveEpsilon, fileTypeName, type InferenceEngine, verifyCompletion} from '../gpu/index.js'
import {checkServedItem} from '../market/results.js'
import type {IndexedTask} from '../market/types.js'
import {signItemsRequest} from '../protocol/eip712.js'
import {sampleIndices, segmentOf} from '../protocol/results.js'
import type {TaskSpec} from '../protocol/task-spec.js'
import {MAX_ITEMS_PER_REQUEST, type ServedItem} from '../protocol/items.js'
import {buildPrompt, completionText, runItem, samplingFor} from './prompt.js'

export interface ItemVerdict {
  index: number
  id: string | null
  ok: boolean
  /** Why it failed. */
  reason?: string
  /** Completion tokens checked. */
  tokens: number
  /** Time the check took (prefill included). */
  ms: number
}

export interface CheckpointCheck {
  taskId: number
  k: number
  first: number
  end: number
  seed: string
  /** The indices checked (the member's sample, or the whole segment). */
  indices: number[]
  accept: boolean
  items: ItemVerdict[]
  /** Wall time of the whole check (fetch + verify). */
  ms: number
  /** CPU time of this process during the check (user + system). */
  cpuMs: number
}

const ZERO = `0x${'0'.repeat(64)}`

/**
 * A member's sampling seed: the market's `memberSampleSeed` view, or — while it is still zero (the commit's block
 * is the latest one) or again after 256 blocks — the same value computed from the block's hash:
 * keccak256(abi.encode(blockhash(seedBlock), member)).
 */
export async function memberSeed(chain: Pick<ChainContext, 'market' | 'provider'>, taskId: number, k: number, member: string, seedBlock: number): Promise<string> {
  const seed = await chain.market.memberSampleSeed(taskId, k, member)
  if (seed !== ZERO) return seed
  const block = await chain.provider.getBlock(seedBlock)
  if (!block?.hash) throw new Error(`block ${seedBlock} is not available`)
  return keccak256(AbiCoder.defaultAbiCoder().encode(['bytes32', 'address'], [block.hash, member]))
}

export type FetchOutcome = {ok: true; item: ServedItem} | {ok: false; reason: string}

/** Fetches items from the executor with signed requests; every index gets an outcome (never throws). */
export async function fetchServedItems(options: {
  endpoint: string
  /** The executor at `endpoint` (requests are signed for it alone). */
  executor: string
  signer: Wallet
  domain: TypedDataDomain
  taskId: number
  indices: readonly number[]
  timeoutMs?: number
  /** Requests in flight at once. Defaults to 8. */
  concurrency?: number
}): Promise<Map<number, FetchOutcome>> {
  const endpoint = options.endpoint.replace(/\/$/, '')
  const outcomes = new Map<number, FetchOutcome>()
  // Contiguous runs go in one request (up to the API's limit); scattered samples are one request each.
  const runs: Array<{first: number; count: number}> = []
  for (const index of [...options.indices].sort((a, b) => a - b)) {
    const last = runs.at(-1)
    if (last && last.first + last.count === index && last.count < MAX_ITEMS_PER_REQUEST) last.count++
    else runs.push({first: index, count: 1})
  }
  const fetchRun = async ({first, count}: {first: number; count: number}) => {
    const expiry = Math.floor(Date.now() / 1000) + 120
    const fail = (reason: string) => {
      for (let i = first; i < first + count; i++) outcomes.set(i, {ok: false, reason})
    }
    try {
      const signature = await signItemsRequest(options.signer, options.domain, {taskId: options.taskId, executor: options.executor, first, count, expiry})
      const url = count === 1 ? `${endpoint}/tasks/${options.taskId}/items/${first}` : `${endpoint}/tasks/${options.taskId}/items?first=${first}&count=${count}`
      const response = await fetch(url, {
        headers: {'x-ogpu-signature': signature, 'x-ogpu-expiry': String(expiry)},
        signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
      })
      const body = (await response.json().catch(() => undefined)) as {items?: ServedItem[]; error?: {message?: string}} | undefined
      if (!response.ok || !Array.isArray(body?.items)) return fail(`the executor refused: HTTP ${response.status}${body?.error?.message ? ` ${body.error.message}` : ''}`)
      for (const item of body.items) if (item && typeof item.index === 'number' && item.index >= first && item.index < first + count) outcomes.set(item.index, {ok: true, item})
      for (let i = first; i < first + count; i++) if (!outcomes.has(i)) outcomes.set(i, {ok: false, reason: 'the executor did not serve this item'})
    } catch (error) {
      const cause = (error as {cause?: {code?: string}}).cause?.code ?? (error as Error).message
      fail(`the executor is unreachable at ${endpoint} (${cause})`)
    }
  }
  const queue = [...runs]
  await Promise.all(
    Array.from({length: Math.min(options.concurrency ?? 8, queue.length)}, async () => {
      for (let run = queue.shift(); run; run = queue.shift()) await fetchRun(run)
    }),
  )
  return outcomes
}

/** Checks one served item against the chain and by re-running the model as the spec's equivalence says. */
export async function checkItem(
  engine: InferenceEngine,
  spec: TaskSpec,
  task: IndexedTask,
  k: number,
  index: number,
  outcome: FetchOutcome | undefined,
): Promise<ItemVerdict> {
  const started = performance.now()
  const verdict = (ok: boolean, reason?: string, id: string | null = null, tokens = 0): ItemVerdict => ({
    index,
    id,
    ok,
    ...(reason ? {reason} : {}),
    tokens,
    ms: Math.round((performance.now() - started) * 100) / 100,
  })
  if (!outcome) return verdict(false, 'not fetched')
  if (!outcome.ok) return verdict(false, outcome.reason)
  const served = outcome.item
  const id = typeof served.result?.id === 'string' ? served.result.id : null
  if (served.index !== index) return verdict(false, `asked for item ${index}, got item ${served.index}`, id)
  if (served.k !== k) return verdict(false, `item ${index} is served as checkpoint ${served.k}, not ${k}`, id)
  let problem: string | undefined
  try {
    problem = checkServedItem(task, served)
  } catch (error) {
    problem = `malformed item: ${(error as Error).message}`
  }
  if (problem) return verdict(false, problem, id)
  const result = served.result
  const maxTokens = spec.instructions.maxTokens
  const tokens = Array.isArray(result.tokenIds) ? result.tokenIds : []
  if (tokens.length === 0) return verdict(false, 'no completion tokens', id)
  if (tokens.length > maxTokens) return verdict(false, `${tokens.length} completion tokens, more than maxTokens ${maxTokens}`, id, tokens.length)
  if (spec.verification.method === 'none') return verdict(true, undefined, id, tokens.length)
  try {
    const prompt = buildPrompt(engine, served.item)
    if (result.promptTokens !== prompt.length) return verdict(false, `claims ${result.promptTokens} prompt tokens; the prompt is ${prompt.length}`, id, tokens.length)
    engine.assertTokenIds(tokens, 'completion')
    if (completionText(engine, prompt, tokens) !== result.completion) return verdict(false, 'the completion text is not what its token ids decode to', id, tokens.length)
    const endsWithEog = engine.isEndOfGeneration(tokens.at(-1)!)
    if ((result.finishReason === 'stop') !== endsWithEog)
      return verdict(false, `finishReason "${result.finishReason}" does not match the last token`, id, tokens.length)
    if (spec.verification.method === 'exact') {
      const again = await runItem(engine, spec, served.item, index, {prompt})
      const same = again.tokenIds.length === tokens.length && again.tokenIds.every((t, i) => t === tokens[i])
      return same ? verdict(true, undefined, id, tokens.length) : verdict(false, 'exact: regenerating gives other token ids', id, tokens.length)
    }
    const checked = await verifyCompletion(engine, {
      prompt,
      completion: tokens,
      maxTokens,
      sampling: samplingFor(spec, index),
      // Greedy output is prefill-consistent, so ε ≥ 0.01; sampled output is not: ε ≥ the model's floor (docs/protocol.md).
      epsilon: effectiveEpsilon(spec.verification.epsilon, quantizationOf(engine), spec.instructions.sampling.mode),
      maxRank: spec.verification.maxRank,
    })
    if (checked.ok) return verdict(true, undefined, id, tokens.length)
    const f = checked.firstFailure
    const reason =
      f?.reason === 'token'
        ? `token ${f.position} (${f.claimed}) is not the model's output (expected ${f.expected}, margin ${f.margin?.toFixed(3) ?? '?'}${f.rank ? `, rank ${f.rank}` : ''})`
        : `prefill: ${f?.reason ?? 'failed'} at position ${f?.position ?? '?'}`
    return verdict(false, reason, id, tokens.length)
  } catch (error) {
    return verdict(false, `could not be verified: ${(error as Error).message}`, id, tokens.length)
  }
}

/** The indices a member checks on checkpoint k: its sample, or every item of the segment. */
export function indicesToCheck(task: IndexedTask, spec: TaskSpec, k: number, seed: string, all = false): {first: number; end: number; indices: number[]} {
  const {first, end} = segmentOf(task.itemCount, task.checkpoints, k)
  const indices = all ? Array.from({length: end - first}, (_, i) => first + i) : sampleIndices(seed, first, end, spec.verification.sampleSize)
  return {first, end, indices}
}

/** Checks items of checkpoint k already fetched; accept iff all pass. */
export async function checkItems(
  engine: InferenceEngine,
  spec: TaskSpec,
  task: IndexedTask,
  k: number,
  indices: readonly number[],
  outcomes: Map<number, FetchOutcome>,
): Promise<{accept: boolean; items: ItemVerdict[]}> {
  const items = await Promise.all(indices.map((index) => checkItem(engine, spec, task, k, index, outcomes.get(index))))
  return {accept: items.length > 0 && items.every((i) => i.ok), items}
}

/** Fetches and checks a member's sample (or every item) of checkpoint k. */
export async function checkCheckpoint(options: {
  chain: Pick<ChainContext, 'market' | 'provider'>
  engine: InferenceEngine
  spec: TaskSpec
  task: IndexedTask
  k: number
  signer: Wallet
  domain: TypedDataDomain
  endpoint: string
  /** Whose sample (defaults to the signer's address). */
  member?: string
  all?: boolean
  timeoutMs?: number
}): Promise<CheckpointCheck> {
  const started = performance.now()
  const cpu0 = process.cpuUsage()
  const cp = options.task.checkpointList[options.k]
  if (!cp?.resultRoot) throw new Error(`checkpoint ${options.k} of task ${options.task.id} is not committed`)
  const seed = await memberSeed(options.chain, options.task.id, options.k, options.member ?? options.signer.address, cp.seedBlock)
  const {first, end, indices} = indicesToCheck(options.task, options.spec, options.k, seed, options.all)
  const outcomes = await fetchServedItems({endpoint: options.endpoint, executor: options.task.executor!, signer: options.signer, domain: options.domain, taskId: options.task.id, indices, timeoutMs: options.timeoutMs})
  const {accept, items} = await checkItems(options.engine, options.spec, options.task, options.k, indices, outcomes)
  const cpu = process.cpuUsage(cpu0)
  return {taskId: options.task.id, k: options.k, first, end, seed, indices, accept, items, ms: Math.round(performance.now() - started), cpuMs: Math.round((cpu.user + cpu.system) / 1000)}
}

/** The loaded model's quantization (general.file_type), e.g. F32 or Q8_0. */
function quantizationOf(engine: InferenceEngine): string {
  const general = (engine.model.fileInfo?.metadata as {general?: {file_type?: number}} | undefined)?.general
  return fileTypeName(general?.file_type)
}

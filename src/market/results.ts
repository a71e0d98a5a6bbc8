import {basename, dirname} from 'node:path'

import type {Wallet} from 'ethers'

import type {ChainContext} from '../chain/context.js'
import {ExternalError, UserError} from '../errors/index.js'
import {MAX_ITEMS_PER_REQUEST, type ServedItem} from '../protocol/items.js'
import {ogpuDomain, signItemsRequest} from '../protocol/eip712.js'
import {verifyProof} from '../protocol/merkle.js'
import {verifyResult} from '../protocol/results.js'
import {itemHash} from '../protocol/task-data.js'
import {writeFileDurable} from '../storage/index.js'
import type {IndexedTask} from './types.js'

export interface VerifiedResult {
  index: number
  id: string
  completion: string
  tokenIds: number[]
  finishReason: string
  k: number
}

/** Checks one served item against the chain: the item against the data root, the result against its checkpoint root. */
export function checkServedItem(task: IndexedTask, served: ServedItem): string | undefined {
  const cp = task.checkpointList[served.k]
  if (!cp || !cp.resultRoot) return `item ${served.index}: checkpoint ${served.k} has no committed result root`
  if (served.result.index !== served.index) return `item ${served.index}: the result is for item ${served.result.index}`
  const hash = itemHash(served.item)
  if (served.result.itemHash !== hash) return `item ${served.index}: the result is bound to another input`
  if (!verifyProof(task.dataRoot, served.index, hash, served.itemProof)) return `item ${served.index}: not in the task's data (proof fails against the data root)`
  if (!verifyResult(cp.resultRoot, served.result, served.resultProof)) return `item ${served.index}: the output does not match checkpoint ${served.k}'s committed root`
  return undefined
}

/** Fetches a task's items from its executor (signed requests) and verifies every one; unverifiable data is refused. */
export async function downloadResults(chain: ChainContext, signer: Wallet, task: IndexedTask, options: {timeoutMs?: number} = {}): Promise<VerifiedResult[]> {
  if (!task.executor) throw new UserError(`Task ${task.id} has no executor yet.`, {code: 'NOT_ASSIGNED', hint: `Follow it with \`ogpu task watch ${task.id}\`.`})
  const committed = task.checkpointList.filter((cp) => cp?.resultRoot).length
  if (committed === 0) throw new UserError(`Task ${task.id} has no committed checkpoint yet.`, {code: 'NO_RESULTS'})
  const provider = await chain.registry.providerOf(task.executor)
  const endpoint = provider.endpoint.replace(/\/$/, '')
  const domain = ogpuDomain(chain.network.chainId, chain.network.contracts.taskMarket)
  const served: ServedItem[] = []
  for (let first = 0; first < task.itemCount; first += MAX_ITEMS_PER_REQUEST) {
    const count = Math.min(MAX_ITEMS_PER_REQUEST, task.itemCount - first)
    const expiry = Math.floor(Date.now() / 1000) + 300
    const signature = await signItemsRequest(signer, domain, {taskId: task.id, executor: task.executor, first, count, expiry})
    const url = `${endpoint}/tasks/${task.id}/items?first=${first}&count=${count}`
    let response: Response
    try {
      response = await fetch(url, {headers: {'x-ogpu-signature': signature, 'x-ogpu-expiry': String(expiry)}, signal: AbortSignal.timeout(options.timeoutMs ?? 30_000)})
    } catch (error) {
      throw new ExternalError(`The executor ${task.executor} does not answer at ${endpoint}: ${(error as {cause?: {code?: string}}).cause?.code ?? (error as Error).message}.`, {
        code: 'EXECUTOR_UNREACHABLE',
        cause: error,
      })
    }
    const body = (await response.json().catch(() => undefined)) as {items?: ServedItem[]; error?: {message: string}} | undefined
    if (!response.ok || !body?.items)
      throw new ExternalError(`The executor refused ${url}: HTTP ${response.status} ${body?.error?.message ?? ''}`.trim(), {code: 'EXECUTOR_REFUSED'})
    served.push(...body.items)
  }
  const problems: string[] = []
  const byIndex = new Map<number, ServedItem>()
  for (const item of served) {
    const problem = checkServedItem(task, item)
    if (problem) problems.push(problem)
    else byIndex.set(item.index, item)
  }
  if (problems.length > 0)
    throw new ExternalError(`The executor served ${problems.length} item(s) that do not match the chain; nothing was written:\n  ${problems.slice(0, 10).join('\n  ')}`, {
      code: 'UNVERIFIABLE_RESULTS',
      hint: 'Do not trust these outputs. The council should reject the checkpoint; see `ogpu task show`.',
    })
  const results: VerifiedResult[] = []
  for (let i = 0; i < task.itemCount; i++) {
    const item = byIndex.get(i)
    if (!item) continue
    results.push({index: i, id: item.result.id, completion: item.result.completion, tokenIds: item.result.tokenIds, finishReason: item.result.finishReason, k: item.k})
  }
  return results
}

/** Writes results as JSONL atomically and durably (see src/storage). */
export function writeResults(path: string, results: VerifiedResult[]): void {
  writeFileDurable(dirname(path), basename(path), results.map((r) => JSON.stringify(r)).join('\n') + '\n', {mode: 'umask'})
}

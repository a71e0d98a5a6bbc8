/** Fakes for the daemon's roles: a real journal in a temp dir, a scripted chain, a recording logger and sender. */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {ContractTransactionResponse, TransactionReceipt} from 'ethers'

import {ContractRevertError, type RevertName} from '../../../../src/chain/errors.js'
import type {IndexedCheckpoint, IndexedTask} from '../../../../src/market/types.js'
import type {Logger} from '../../../../src/provider/log.js'
import {storeRecords, type TaskRecords, type TaskView} from '../../../../src/provider/daemon/ports.js'
import {openProviderStore, type ProviderStore} from '../../../../src/provider/state.js'
import type {SendTx} from '../../../../src/provider/tx-queue.js'
import {addr, makeTask, NOW} from '../../tui/fixtures.js'

export {addr, makeTask, NOW}
export const ME = addr(20)

/** A real provider store (journal + snapshot) in a fresh temp dir. */
export function tempStore(): {store: ProviderStore; records: TaskRecords; dispose(): void} {
  const dir = mkdtempSync(join(tmpdir(), 'ogpu-roles-'))
  const store = openProviderStore(dir)
  return {
    store,
    records: storeRecords(store),
    dispose: () => {
      store.close()
      rmSync(dir, {recursive: true, force: true})
    },
  }
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error'
  event: string
  message: string
  fields?: Record<string, unknown>
}

export function recordingLogger(): Logger & {lines: LogLine[]} {
  const lines: LogLine[] = []
  const at = (level: LogLine['level']) => (event: string, message: string, fields?: Record<string, unknown>) => void lines.push({level, event, message, fields})
  return {lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error')}
}

let nonce = 0
const hash = () => `0x${(++nonce).toString(16).padStart(64, '0')}`

/** A transaction response as far as the roles look at it (its hash). */
export const response = (): ContractTransactionResponse => ({hash: hash()}) as unknown as ContractTransactionResponse

/** A revert as the chain layer converts it. */
export const revert = (name: RevertName, args: unknown[] = []): ContractRevertError => new ContractRevertError(`The contract refused with ${name}.`, name, args)

/** Sends at once: the send function's response is "mined" with its hash; a thrown error is the send's failure. */
export function instantSender(): SendTx & {sent: string[]} {
  const sent: string[] = []
  const send: SendTx = async (what, fn, onSent) => {
    const r = await fn()
    sent.push(what)
    onSent?.(r.hash)
    return {hash: r.hash} as TransactionReceipt
  }
  return Object.assign(send, {sent})
}

/** Jobs that run at once and are always due, recording their keys; `await jobs.idle()` settles them. */
export function eagerJobs(): {due(key: string, everyMs: number): boolean; spawn(key: string, job: () => Promise<void>): Promise<void> | undefined; keys: string[]; settled(): Promise<void>} {
  const keys: string[] = []
  const running: Promise<void>[] = []
  return {
    keys,
    due: () => true,
    spawn(key, job) {
      keys.push(key)
      const p = job()
      running.push(p)
      return p
    },
    settled: async () => {
      await Promise.all(running)
    },
  }
}

export function taskView(tasks: IndexedTask[]): TaskView {
  return {task: (id) => tasks.find((t) => t.id === id), tasks: () => tasks}
}

/** An assigned task with `ME` as executor or as a council member, and checkpoint 0 in the given state. */
export function assignedTask(id: number, role: 'executor' | 'council', cp?: Partial<IndexedCheckpoint>): IndexedTask {
  const task = makeTask(id, {status: 'assigned', bids: [20, 25, 26]})
  task.councilSeated = true
  if (role === 'council') task.council = [ME, addr(12)]
  if (role === 'executor') {
    task.executor = ME
    task.council = [addr(11), addr(12)]
  }
  if (cp) task.checkpointList = [{k: 0, state: 'voting', resultRoot: `0x${'22'.repeat(32)}`, seedBlock: 5, commitEnd: NOW + 60, revealEnd: NOW + 120, committedBlock: 4, verdicts: {}, ...cp}]
  return task
}

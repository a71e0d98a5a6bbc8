/**
 * The demo's report: what the batch task (and the stream) did, as plain data from the chain's events, and its text
 * form for `npm run demo -- --ci`.
 */
import {type AmountJson, amountJson} from '../chain/units.js'
import {councilFeesByVoter} from '../market/earnings.js'
import type {IndexedTask, TaskStatus} from '../market/types.js'

export interface DemoParty {
  address: string
  /** The wallet's name in the demo, when it is one of the demo's. */
  wallet: string | null
}

export interface BatchReport {
  taskId: number
  status: TaskStatus
  items: number
  bids: number
  executor: DemoParty | null
  price: AmountJson | null
  council: DemoParty[]
  checkpoints: Array<{
    k: number
    state: string
    approvals: number | null
    rejections: number | null
    verdicts: Array<DemoParty & {accept: boolean | null}>
  }>
  /** What the market paid out: the executor's price and each council member's fees (majority voters only). */
  payments: Array<DemoParty & {role: 'executor' | 'council'; amount: AmountJson}>
  clientRefund: AmountJson
}

export function batchReport(task: IndexedTask, wallets: ReadonlyArray<{name: string; address: string}>): BatchReport {
  const party = (address: string): DemoParty => ({address, wallet: wallets.find((w) => w.address.toLowerCase() === address.toLowerCase())?.name ?? null})
  const fees = councilFeesByVoter(task)
  return {
    taskId: task.id,
    status: task.status,
    items: task.itemCount,
    bids: task.bids.length,
    executor: task.executor ? party(task.executor) : null,
    price: task.price === undefined ? null : amountJson(task.price),
    council: task.council.map(party),
    checkpoints: task.checkpointList.filter(Boolean).map((cp) => ({
      k: cp.k,
      state: cp.state,
      approvals: cp.approvals ?? null,
      rejections: cp.rejections ?? null,
      verdicts: Object.values(cp.verdicts).map((v) => ({...party(v.voter), accept: v.accept ?? null})),
    })),
    payments: [
      ...(task.executor ? [{...party(task.executor), role: 'executor' as const, amount: amountJson(task.executorPaid)}] : []),
      ...task.council.map((address) => ({...party(address), role: 'council' as const, amount: amountJson(fees.get(address) ?? 0n)})),
    ],
    clientRefund: amountJson(task.clientRefund),
  }
}

const who = (p: DemoParty | null): string => (p ? (p.wallet ? `${p.wallet} (${p.address})` : p.address) : '-')
const verdict = (accept: boolean | null): string => (accept === null ? 'no reveal' : accept ? 'accept' : 'reject')

/** The batch half of the report, as lines of text. */
export function batchReportLines(report: BatchReport): string[] {
  return [
    `Batch task ${report.taskId}: ${report.status}, ${report.items} items, ${report.bids} bids`,
    `  executor   ${who(report.executor)} at ${report.price ? `${report.price.value} oGPU` : '-'}`,
    `  council    ${report.council.map((p) => p.wallet ?? p.address).join(', ') || '-'}`,
    ...report.checkpoints.map(
      (cp) => `  checkpoint ${cp.k}: ${cp.state} (${cp.approvals ?? 0} accept, ${cp.rejections ?? 0} reject) · ${cp.verdicts.map((v) => `${v.wallet ?? v.address} ${verdict(v.accept)}`).join(', ')}`,
    ),
    `  payments   ${report.payments.map((p) => `${p.wallet ?? p.address} ${p.amount.value} oGPU (${p.role})`).join(', ')}; client refund ${report.clientRefund.value} oGPU`,
  ]
}

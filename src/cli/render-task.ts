import {formatDuration} from '../chain/account.js'
import {executorSlashText} from '../market/types.js'
import type {TaskJson} from '../market/view.js'
import {color, keyValues, table} from './format.js'

const short = (address: string | null): string => (address ? `${address.slice(0, 8)}…${address.slice(-4)}` : '-')

export function renderTaskRow(task: TaskJson, now: number): Array<string | number> {
  const left = Math.max(0, Math.floor(new Date(task.biddingEnd).getTime() / 1000) - now)
  return [
    task.id,
    task.status,
    task.modelHash.slice(2, 10),
    task.itemCount,
    task.maxPrice.value,
    `${task.bids.length}/${task.maxBids}`,
    task.bestBid?.price.value ?? '-',
    task.status === 'open' ? formatDuration(left) : '-',
  ]
}

export function renderTaskTable(tasks: TaskJson[], now: number): string {
  return table(['ID', 'STATUS', 'MODEL', 'ITEMS', 'MAX PRICE', 'BIDS', 'BEST', 'BIDDING LEFT'], tasks.map((t) => renderTaskRow(t, now)))
}

export function renderTask(task: TaskJson): string {
  const parts = [
    keyValues([
      ['Task', `${task.id} (${task.status})`],
      ['Client', task.client],
      ['Spec', `${task.specUri} (${task.specHash})`],
      ['Model', task.modelHash],
      ['Data', `${task.itemCount} items, root ${task.dataRoot}`],
      ['Checkpoints', task.checkpoints],
      ['Council size', task.councilSize],
      ['Max price', `${task.maxPrice.value} oGPU (escrow ${task.escrow.value})`],
      ['Collateral', `${task.collateral.value} oGPU per bid`],
      ['Bidding ends', task.biddingEnd],
      ['Assignable from', task.assignableAt],
    ]),
  ]
  if (task.bids.length > 0) {
    const ladder = [...task.bids].sort((a, b) => Number(BigInt(a.price.wei) - BigInt(b.price.wei)) || a.index - b.index)
    parts.push(
      `\n${color.bold('Bids')} (lowest first)\n${table(
        ['#', 'PRICE', 'PROVIDER', 'BLOCK', ''],
        ladder.map((bid) => [bid.index, bid.price.value, bid.provider, bid.block, bid.provider === task.executor ? 'executor' : task.council.includes(bid.provider) ? 'council' : '']),
      )}`,
    )
  }
  if (task.executor)
    parts.push(
      `\n${keyValues([
        ['Executor', `${task.executor} at ${task.price?.value} oGPU`],
        ['Council', task.councilSeated ? task.council.map(short).join(', ') : task.status === 'assigned' ? `pending: drawn from the pool after block ${task.drawBlock ?? '?'}` : task.council.map(short).join(', ') || '-'],
        ['Deadline', task.deadline ?? '-'],
      ])}`,
    )
  if (task.checkpointList.length > 0)
    parts.push(
      `\n${color.bold('Checkpoints')}\n${table(
        ['K', 'STATE', 'ROOT', 'VERDICTS', 'PAID'],
        task.checkpointList.map((cp) => [
          cp.k,
          cp.state,
          `${cp.resultRoot.slice(0, 10)}…`,
          cp.verdicts.map((v) => `${short(v.voter)}:${v.revealed ? (v.accept ? 'accept' : 'reject') : v.committed ? 'committed' : '-'}${v.slashed ? '(slashed)' : ''}`).join(' ') || '-',
          cp.executorPaid?.value ?? '-',
        ]),
      )}`,
    )
  const outcome: Array<[string, string]> = [['Paid to executor', `${task.executorPaid.value} oGPU`], ['Refunded to client', `${task.clientRefund.value} oGPU`]]
  if (task.failure)
    outcome.push(['Failure', `checkpoint ${task.failure.k} ${task.failure.reason}; ${executorSlashText(task.failure.reason, `${task.failure.executorSlashed.value} oGPU`)}`])
  if (task.confirmed) outcome.push(['Confirmed', 'early, by the client'])
  parts.push(`\n${keyValues(outcome)}`)
  return parts.join('\n')
}

/**
 * The dashboard snapshot as plain text: what `ogpu tui` prints when stdout is not a terminal, and with `--once`.
 * No colours, no cursor movement; every line fits `width` columns.
 */
import {executorSlashText} from '../market/types.js'
import {clip, compactAmount, compactNumber, fit, shortAddress, shortDuration, sparkline} from './format.js'
import type {AuctionRow, TaskDetail} from './auction.js'
import type {ModelPulse} from './pulse.js'
import type {DashboardSnapshot} from './snapshot.js'
import type {StreamRow, StreamsView} from './streams.js'
import type {WalletView} from './wallet-view.js'

export interface PlainOptions {
  /** Columns. Defaults to 80. */
  width?: number
  /** Auction rows printed. Defaults to 20. */
  rows?: number
}

export const modelLabel = (row: {modelName: string | null; modelHash: string}): string => row.modelName ?? row.modelHash.slice(2, 10)

export const unitLabel = (unit: ModelPulse['unit']): string => (unit === 'per-1k-tokens' ? 'oGPU/1k tok' : 'oGPU/item')

/** The LEFT column of a task row (≤ 8 characters): time left while bidding, else the stage. */
export function leftLabel(row: Pick<AuctionRow, 'secondsLeft' | 'stage' | 'checkpoint'>): string {
  if (row.stage === 'bidding') return row.secondsLeft !== null ? shortDuration(row.secondsLeft) : 'bidding'
  if (row.stage === 'running' || row.stage === 'voting') return `${row.stage === 'voting' ? 'vote' : 'cp'} ${row.checkpoint}`
  if (row.stage === 'finalized') return 'done'
  if (row.stage === 'cancelled') return 'cancel'
  return row.stage
}

export function connectionLabel(snapshot: Pick<DashboardSnapshot, 'connection'>): string {
  const c = snapshot.connection
  if (c.status === 'live') return 'live'
  if (c.status === 'connecting') return 'connecting…'
  return `reconnecting… (attempt ${c.attempt}${c.retryInSeconds !== null ? `, retry in ${c.retryInSeconds}s` : ''})`
}

export function auctionColumns(width: number): Array<{key: string; title: string; width: number; align: 'left' | 'right'}> {
  // ID MODEL ITEMS MAX BIDS BEST LEFT: 48 columns at least; MODEL takes what is left over (up to 24).
  const columns = [
    {key: 'id', title: 'ID', width: 4, align: 'right' as const},
    {key: 'model', title: 'MODEL', width: 8, align: 'left' as const},
    {key: 'items', title: 'ITEMS', width: 5, align: 'right' as const},
    {key: 'max', title: 'MAX', width: 6, align: 'right' as const},
    {key: 'bids', title: 'BIDS', width: 5, align: 'right' as const},
    {key: 'best', title: 'BEST', width: 6, align: 'right' as const},
    {key: 'left', title: 'LEFT', width: 8, align: 'left' as const},
  ]
  const used = columns.reduce((s, c) => s + c.width, 0) + columns.length - 1
  const spare = Math.max(0, width - used)
  columns[1]!.width += Math.min(spare, 16)
  columns[0]!.width += Math.min(2, Math.max(0, spare - 16))
  return columns
}

export function auctionCells(row: AuctionRow): Record<string, string> {
  return {
    id: String(row.id),
    model: modelLabel(row),
    items: String(row.items),
    max: compactAmount(row.maxPrice.wei),
    bids: `${row.bids}/${row.maxBids}`,
    best: row.bestBid ? compactAmount(row.bestBid.wei) : '-',
    left: leftLabel(row),
  }
}

function auctionLines(snapshot: DashboardSnapshot, width: number, rows: number): string[] {
  const a = snapshot.auction
  const columns = auctionColumns(width)
  const line = (cells: Record<string, string>) => columns.map((c) => fit(cells[c.key] ?? '', c.width, c.align)).join(' ').trimEnd()
  const out = [
    `AUCTION BOOK  ${a.filter}: ${a.total} task(s)  (open ${a.counts.open}, assigned ${a.counts.assigned}, ended ${a.counts.finalized + a.counts.failed + a.counts.expired + a.counts.cancelled})`,
    line(Object.fromEntries(columns.map((c) => [c.key, c.title]))),
  ]
  const shown = a.rows.slice(0, rows)
  if (shown.length === 0) out.push('  no tasks match')
  for (const row of shown) out.push(line(auctionCells(row)))
  if (a.total > a.offset + shown.length) out.push(`  … and ${a.total - a.offset - shown.length} more`)
  return out
}

export function ladderRole(role: string): string {
  return role === 'best' ? 'best' : role
}

function detailLines(task: TaskDetail, width: number): string[] {
  const left = task.secondsLeft !== null && task.secondsLeft > 0 ? `, ${shortDuration(task.secondsLeft)} left` : ''
  const out = [
    `TASK ${task.id}  ${task.status} (${task.phase}${left})  ${modelLabel(task)}  ${task.itemCount} items  max ${compactAmount(task.maxPrice.wei)} oGPU  ${task.bids.length}/${task.maxBids} bids`,
  ]
  if (task.ladder.length > 0) {
    out.push(`  ${fit('#', 3)} ${fit('PRICE', 8, 'right')}  ${fit('PROVIDER', 13)}  ${fit('STAKE', 8, 'right')}  ROLE`)
    for (const bid of task.ladder) out.push(`  ${fit(String(bid.rank), 3)} ${fit(compactAmount(bid.price.wei), 8, 'right')}  ${fit(shortAddress(bid.provider), 13)}  ${fit(bid.stake ? compactAmount(bid.stake.wei) : '?', 8, 'right')}  ${ladderRole(bid.role)}`)
  } else out.push('  no bids yet')
  if (task.executor) {
    out.push(`  executor ${shortAddress(task.executor)} at ${task.price ? compactAmount(task.price.wei) : '?'} oGPU; council ${task.council.map(shortAddress).join(', ') || '-'}`)
  }
  for (const cp of task.checkpointList) {
    const votes = cp.verdicts.map((v) => `${shortAddress(v.voter)}:${v.slashed ? 'slashed' : v.revealed ? (v.accept ? 'accept' : 'reject') : v.committed ? 'committed' : '-'}`).join(' ')
    out.push(`  cp ${cp.k} ${cp.state}${cp.executorPaid ? ` paid ${compactAmount(cp.executorPaid.wei)}` : ''}  ${votes}`)
  }
  if (task.status === 'finalized' || task.status === 'failed' || task.status === 'expired' || task.status === 'cancelled')
    out.push(`  paid to executor ${compactAmount(task.executorPaid.wei)}, refunded ${compactAmount(task.clientRefund.wei)}${task.failure ? `; ${failureText(task.failure)}` : ''}`)
  return out.map((l) => clip(l, width))
}

/** A failed task's outcome in one phrase: where, why, and whether the executor was slashed. */
export function failureText(failure: NonNullable<TaskDetail['failure']>): string {
  return `failed at cp ${failure.k} (${failure.reason}), ${executorSlashText(failure.reason, compactAmount(failure.executorSlashed.wei))}`
}

export function streamsLines(streams: StreamsView): string[] {
  if (streams.kind !== 'live') return [streams.message]
  if (streams.streams.length === 0) return [streams.error ? `unreadable: ${streams.error}` : 'no streams yet']
  const lines = streams.streams.map(streamLine)
  if (streams.error) lines.unshift(`stale (${streams.error})`)
  return lines
}

const rate = (v: number | null): string => (v === null ? '-' : compactNumber(v))

/**
 * One stream in a line, the live figures first (they matter most at 80 columns): id, model, health with subscribers
 * live / subscribers vs council size, requests/s, tokens/s, spend, then the terms and the state.
 */
export function streamLine(s: StreamRow): string {
  const live = s.live === null ? '' : `${s.live}/`
  const state = s.status === 'active' ? '' : ` ${s.status}`
  const disputes = s.openDisputes > 0 ? ` ${s.openDisputes} dispute(s)` : ''
  return (
    `#${s.id} ${s.model} ${s.health} ${live}${s.subscribers} subs (c ${s.councilSize}) ${rate(s.requestsPerSecond)} req/s ${rate(s.tokensPerSecond)} tok/s ` +
    `spent ${s.spend === null ? '-' : compactAmount(s.spend)} · ${compactAmount(s.pricePerKiloGenerated)}+${compactAmount(s.pricePerKiloVerified)}/1k ${s.method} · deposit ${compactAmount(s.deposit)}${state}${disputes}`
  )
}

export function walletLines(wallet: WalletView | null): string[] {
  if (!wallet) return ['no wallet selected: pass --wallet NAME (or `ogpu wallet use NAME`)']
  const out = [`${wallet.name ?? 'address'} ${wallet.address}`]
  if (wallet.eth && wallet.ogpu) out.push(`balance ${compactAmount(wallet.eth.wei)} ETH, ${compactAmount(wallet.ogpu.wei)} oGPU`)
  else out.push(wallet.error ? `balance unavailable: ${wallet.error}` : 'balance: reading…')
  if (wallet.stake) {
    out.push(`stake ${compactAmount(wallet.stake.staked.wei)}: free ${compactAmount(wallet.stake.free.wei)}, locked ${compactAmount(wallet.stake.locked.wei)}, unbonding ${compactAmount(wallet.stake.unbonding.wei)}${wallet.stake.unbondingSecondsLeft !== null ? ` (${shortDuration(wallet.stake.unbondingSecondsLeft)})` : ''}`)
  }
  const e = wallet.earnings
  out.push(`earned ${compactAmount(e.total.wei)} oGPU: executor ${compactAmount(e.executorPaid.wei)}, council ${compactAmount(e.councilFees.wei)}${e.rejectRewards.wei !== '0' ? `, rewards ${compactAmount(e.rejectRewards.wei)}` : ''}${e.slashed.wei !== '0' ? `; slashed ${compactAmount(e.slashed.wei)}` : ''}`)
  out.push(providerLine(wallet))
  for (const t of wallet.tasks.slice(0, 5)) out.push(`  #${t.id} ${t.role} ${t.status}${t.checkpoint !== null ? ` cp ${t.checkpoint}` : ''}`)
  return out
}

export function providerLine(wallet: WalletView): string {
  const p = wallet.provider
  if (p.registered === null) return 'provider: reading…'
  if (!p.registered) return 'provider: not registered'
  if (p.daemon === 'unreachable') return `provider: daemon unreachable (${p.endpoint})`
  if (p.daemon === 'unknown' || !p.live) return `provider: ${p.endpoint}`
  const live = p.live
  const gpu = live.gpu ? `${live.gpu.backend ?? '?'}${live.gpu.vramGiB !== null ? ` ${live.gpu.vramGiB} GiB` : ''}` : 'gpu ?'
  return `provider: ${gpu}, load ${live.load !== null ? `${Math.round(live.load * 100)}%` : '?'}, queue ${live.queue ?? '?'}, ${live.tasks.length} task(s)`
}

export function pulseLines(snapshot: DashboardSnapshot, width: number): string[] {
  if (snapshot.pulse.models.length === 0) return ['no winning bids yet']
  return snapshot.pulse.models.map((m) => {
    const label = fit(modelLabel(m), 10)
    const stats = m.last === null ? 'no winning bids yet' : `last ${m.last} ${unitLabel(m.unit)}, median ${m.median}, ${m.samples} won, ${m.open} open`
    const spark = sparkline(m.points, Math.max(4, Math.min(24, width - 12 - stats.length - 2)))
    return clip(`${label} ${spark}${spark ? ' ' : ''}${stats}`, width)
  })
}

/** Renders the whole snapshot as text, one section after another. */
export function renderPlain(snapshot: DashboardSnapshot, options: PlainOptions = {}): string {
  const width = Math.max(40, options.width ?? 80)
  const n = snapshot.network
  const lines: string[] = [
    clip(`ogpu tui · ${n.name} (chain ${n.chainId}) · block ${n.block}${n.head !== null && n.head > n.block ? `/${n.head}` : ''} · ${connectionLabel(snapshot)} · ${n.chainTime}`, width),
    '',
    ...auctionLines(snapshot, width, options.rows ?? 20).map((l) => clip(l, width)),
  ]
  if (snapshot.auction.selected) lines.push('', ...detailLines(snapshot.auction.selected, width))
  lines.push('', 'STREAMS', ...streamsLines(snapshot.streams).map((l) => clip(`  ${l}`, width)))
  lines.push('', 'MY WALLET', ...walletLines(snapshot.wallet).map((l) => clip(`  ${l}`, width)))
  lines.push('', 'MARKET PULSE (winning bids)', ...pulseLines(snapshot, width - 2).map((l) => `  ${l}`))
  lines.push('', `EVENTS (last ${snapshot.events.length})`)
  if (snapshot.events.length === 0) lines.push('  none yet')
  for (const e of snapshot.events) lines.push(clip(`  ${fit(String(e.block), 7, 'right')}  ${e.text}`, width))
  return lines.join('\n')
}

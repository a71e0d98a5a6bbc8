/**
 * The text of each pane as lines (plain strings with a tone), from the dashboard model. Pure: the components only
 * lay these out, so they stay small and cheap to memoize.
 */
import type {EventLine} from '../dashboard/events.js'
import {clip, compactAmount, fit, shortAddress, shortDuration, sparkline} from '../dashboard/format.js'
import {auctionCells, auctionColumns, failureText, modelLabel, providerLine, streamLine, streamsLines} from '../dashboard/plain.js'
import type {AuctionRow, TaskDetail} from '../dashboard/auction.js'
import type {PulseView} from '../dashboard/pulse.js'
import type {StreamsView} from '../dashboard/streams.js'
import type {WalletView} from '../dashboard/wallet-view.js'

export type Tone = 'accent' | 'good' | 'warn' | 'bad' | 'muted'

export interface Line {
  text: string
  tone?: Tone
  bold?: boolean
}

// ------------------------------------------------------------------ auction book

export function auctionHeader(width: number): string {
  return ` ${auctionColumns(width - 1)
    .map((c) => fit(c.title, c.width, c.align))
    .join(' ')}`
}

export function auctionRowText(row: AuctionRow, width: number): string {
  const cells = auctionCells(row)
  return auctionColumns(width - 1)
    .map((c) => fit(cells[c.key] ?? '', c.width, c.align))
    .join(' ')
}

export function rowTone(row: AuctionRow): Tone | undefined {
  if (row.status === 'open') return row.secondsLeft !== null && row.secondsLeft <= 10 && row.stage === 'bidding' ? 'warn' : undefined
  if (row.status === 'assigned') return 'accent'
  if (row.status === 'finalized') return 'good'
  if (row.status === 'failed') return 'bad'
  return 'muted'
}

// ------------------------------------------------------------------ selected task

export function taskTitle(task: TaskDetail | null): string {
  if (!task) return 'Task · none selected'
  const left = task.secondsLeft !== null && task.secondsLeft > 0 && task.phase === 'bidding' ? ` ${shortDuration(task.secondsLeft)} left` : ''
  return `Task #${task.id} · ${task.phase}${left} · ${modelLabel(task)} · ${task.itemCount} items · max ${compactAmount(task.maxPrice.wei)}`
}

const verdictMark = (v: TaskDetail['checkpointList'][number]['verdicts'][number]): string =>
  v.slashed ? 'slashed' : v.revealed ? (v.accept ? 'accept' : 'reject') : v.committed ? 'committed' : 'waiting'

function checkpointSummary(cp: TaskDetail['checkpointList'][number]): Line {
  const committed = cp.verdicts.filter((v) => v.committed).length
  const accepts = cp.verdicts.filter((v) => v.revealed && v.accept).length
  const rejects = cp.verdicts.filter((v) => v.revealed && !v.accept).length
  const votes = cp.state === 'voting' ? `${committed} committed, ${accepts}✓ ${rejects}✗` : `${cp.approvals ?? accepts}✓ ${cp.rejections ?? rejects}✗`
  const paid = cp.executorPaid ? `, paid ${compactAmount(cp.executorPaid.wei)}` : ''
  const tone: Tone | undefined = cp.state === 'accepted' ? 'good' : cp.state === 'rejected' ? 'bad' : cp.state === 'voting' ? 'warn' : undefined
  return {text: `cp ${cp.k} ${cp.state}: ${votes}${paid}`, tone}
}

function ladderLines(task: TaskDetail): Line[] {
  if (task.ladder.length === 0) return [{text: task.status === 'open' ? 'no bids yet' : 'no bids', tone: 'muted'}]
  const header: Line = {text: `${fit('#', 2)} ${fit('PRICE', 7, 'right')}  ${fit('PROVIDER', 11)}  ${fit('STAKE', 6, 'right')}  ROLE`, tone: 'muted'}
  return [
    header,
    ...task.ladder.map((bid) => ({
      text: `${fit(String(bid.rank), 2)} ${fit(compactAmount(bid.price.wei), 7, 'right')}  ${fit(shortAddress(bid.provider), 11)}  ${fit(bid.stake ? compactAmount(bid.stake.wei) : '…', 6, 'right')}  ${bid.role}`,
      tone: bid.role === 'executor' ? ('good' as const) : bid.role === 'best' ? ('accent' as const) : undefined,
    })),
  ]
}

function outcomeLines(task: TaskDetail): Line[] {
  const out: Line[] = []
  if (task.executor)
    out.push({text: `executor ${shortAddress(task.executor)} at ${task.price ? compactAmount(task.price.wei) : '?'} · council ${task.council.map(shortAddress).join(' ') || '-'}`})
  for (const cp of task.checkpointList) out.push(checkpointSummary(cp))
  if (task.failure) out.push({text: failureText(task.failure), tone: 'bad'})
  else if (task.status === 'finalized') out.push({text: `finalized: executor paid ${compactAmount(task.executorPaid.wei)}, client refunded ${compactAmount(task.clientRefund.wei)}${task.confirmed ? ' (confirmed early)' : ''}`, tone: 'good'})
  else if (task.status === 'expired' || task.status === 'cancelled') out.push({text: `${task.status}: client refunded ${compactAmount(task.clientRefund.wei)}`, tone: 'muted'})
  return out
}

/**
 * The selected task in `rows` lines: the ladder (best bids first) and then executor, council, checkpoints and the
 * outcome, which are always kept; the ladder is cut when it does not fit.
 */
export function taskPaneLines(task: TaskDetail | null, rows: number): Line[] {
  if (!task) return [{text: 'no task selected', tone: 'muted'}]
  const outcome = outcomeLines(task)
  const ladder = ladderLines(task)
  const room = Math.max(0, rows - outcome.length)
  if (ladder.length <= room) return [...ladder, ...outcome].slice(0, rows)
  const kept = ladder.slice(0, Math.max(1, room - 1))
  return [...kept, {text: `… ${task.ladder.length - (kept.length - 1)} more bid(s): ⏎ for all`, tone: 'muted' as const}, ...outcome].slice(0, rows)
}

/** The selected task full screen: everything `ogpu task show` shows. */
export function taskDetailLines(task: TaskDetail | null): Line[] {
  if (!task) return [{text: 'no task selected', tone: 'muted'}]
  const out: Line[] = [
    {text: `client ${task.client}`},
    {text: `model ${task.modelName ?? '?'} ${task.modelHash}`},
    {text: `spec ${task.specUri}`},
    {text: `data ${task.itemCount} items in ${task.checkpoints} checkpoint(s), root ${task.dataRoot}`},
    {text: `max price ${task.maxPrice.value} oGPU, council fee ${task.councilFeePerVote.value}/vote, collateral ${task.collateral.value}, escrow ${task.escrow.value}`},
    {text: `bidding ends ${task.biddingEnd}${task.deadline ? ` · checkpoint deadline ${task.deadline}` : ''}`},
    {text: ''},
    {text: `Bids (${task.bids.length}/${task.maxBids}), lowest first`, bold: true},
    ...ladderLines(task),
  ]
  if (task.executor || task.checkpointList.length > 0) out.push({text: ''}, {text: 'Execution', bold: true}, ...outcomeLines(task))
  for (const cp of task.checkpointList) {
    out.push({text: `checkpoint ${cp.k}: ${cp.state}, root ${cp.resultRoot.slice(0, 18)}…`, bold: true})
    for (const v of cp.verdicts) out.push({text: `  ${v.voter} ${verdictMark(v)}${v.slashed ? ` ${v.slashed.value} oGPU` : ''}`, tone: v.slashed ? 'bad' : v.revealed ? (v.accept ? 'good' : 'bad') : undefined})
    if (cp.verdicts.length === 0) out.push({text: '  no verdicts yet', tone: 'muted'})
  }
  return out
}

// ------------------------------------------------------------------ wallet

export function walletPaneLines(wallet: WalletView | null): Line[] {
  if (!wallet) return [{text: 'no wallet: --wallet NAME', tone: 'muted'}]
  const out: Line[] = [{text: shortAddress(wallet.address)}]
  if (wallet.eth && wallet.ogpu) out.push({text: `ETH ${compactAmount(wallet.eth.wei)}  oGPU ${compactAmount(wallet.ogpu.wei)}`})
  else out.push({text: wallet.error ? 'balances unavailable' : 'reading…', tone: 'muted'})
  if (wallet.stake) {
    out.push({text: `stake ${compactAmount(wallet.stake.staked.wei)} free ${compactAmount(wallet.stake.free.wei)}`})
    out.push({text: `locked ${compactAmount(wallet.stake.locked.wei)} unbond ${compactAmount(wallet.stake.unbonding.wei)}${wallet.stake.unbondingSecondsLeft ? ` ${shortDuration(wallet.stake.unbondingSecondsLeft)}` : ''}`})
  }
  const e = wallet.earnings
  out.push({text: `earned ${compactAmount(e.total.wei)} (council ${compactAmount(e.councilFees.wei)})`, tone: e.total.wei === '0' ? undefined : 'good'})
  const p = wallet.provider
  if (p.registered) {
    if (p.daemon === 'unreachable') out.push({text: 'daemon unreachable', tone: 'warn'})
    else if (p.live) {
      const live = p.live
      out.push({text: `${live.gpu?.backend ?? 'gpu ?'}${live.gpu?.vramGiB ? ` ${live.gpu.vramGiB}G` : ''} load ${live.load !== null ? `${Math.round(live.load * 100)}%` : '?'} q${live.queue ?? '?'}`, tone: 'accent'})
      for (const t of live.tasks.slice(0, 8)) out.push({text: `#${t.id} ${t.role ?? ''} ${t.phase ?? t.status ?? ''}${t.items ? ` ${t.items.done}/${t.items.total}` : ''}`})
    } else out.push({text: 'daemon: checking…', tone: 'muted'})
  } else if (p.registered === false) out.push({text: 'not a provider', tone: 'muted'})
  if (!p.live) for (const t of wallet.tasks.slice(0, 8)) out.push({text: `#${t.id} ${t.role} ${t.status}${t.checkpoint !== null ? ` cp${t.checkpoint}` : ''}`})
  if (wallet.error) out.push({text: `stale: ${wallet.error}`, tone: 'warn'})
  return out
}

export function walletDetailLines(wallet: WalletView | null): Line[] {
  if (!wallet) return [{text: 'No wallet selected: pass --wallet NAME (or `ogpu wallet use NAME`).', tone: 'muted'}]
  const out: Line[] = [{text: `${wallet.name ?? 'address'} ${wallet.address}`, bold: true}]
  if (wallet.eth && wallet.ogpu) out.push({text: `balances: ${wallet.eth.value} ETH, ${wallet.ogpu.value} oGPU`})
  if (wallet.stake)
    out.push({text: `stake: ${wallet.stake.staked.value} oGPU (free ${wallet.stake.free.value}, locked ${wallet.stake.locked.value}, unbonding ${wallet.stake.unbonding.value}${wallet.stake.unbondingEnd ? ` until ${wallet.stake.unbondingEnd}` : ''})`})
  const e = wallet.earnings
  out.push({text: `earnings: ${e.total.value} oGPU = executor ${e.executorPaid.value} + council fees ${e.councilFees.value} + reject rewards ${e.rejectRewards.value}; slashed ${e.slashed.value}`})
  out.push({text: providerLine(wallet), tone: wallet.provider.daemon === 'unreachable' ? 'warn' : undefined})
  if (wallet.provider.error) out.push({text: `  ${wallet.provider.error}`, tone: 'muted'})
  const live = wallet.provider.live
  if (live) {
    for (const m of live.models) out.push({text: `  model ${m.name}: ${m.busy ?? '?'}/${m.sequences ?? '?'} busy`})
    out.push({text: ''}, {text: `Daemon tasks (${live.tasks.length})`, bold: true})
    for (const t of live.tasks) out.push({text: `  #${t.id} ${t.role ?? '?'} ${t.status ?? ''} ${t.phase ?? ''}${t.items ? ` items ${t.items.done}/${t.items.total}` : ''}`})
  }
  out.push({text: ''}, {text: `Active tasks on the market (${wallet.tasks.length})`, bold: true})
  for (const t of wallet.tasks) out.push({text: `  #${t.id} ${t.role} ${t.status}${t.checkpoint !== null ? ` checkpoint ${t.checkpoint}` : ''}`})
  if (wallet.error) out.push({text: `last chain read failed: ${wallet.error}`, tone: 'warn'})
  return out
}

// ------------------------------------------------------------------ pulse, events, streams

export function pulsePaneLines(pulse: PulseView, width: number): Line[] {
  if (pulse.models.length === 0) return [{text: 'no winning bids yet', tone: 'muted'}]
  return pulse.models.map((m) => {
    const value = m.last === null ? '-' : `${m.last}${m.unit === 'per-1k-tokens' ? '/1k' : '/item'}`
    const label = fit(modelLabel(m), Math.min(12, Math.max(6, width - value.length - 8)))
    const spark = sparkline(m.points, Math.max(0, width - label.length - value.length - 2))
    return {text: clip(`${label} ${spark.padEnd(Math.max(0, width - label.length - value.length - 2))} ${value}`, width)}
  })
}

export function pulseDetailLines(pulse: PulseView, width: number): Line[] {
  if (pulse.models.length === 0) return [{text: 'No winning bids yet: the pulse shows winning prices once tasks are assigned.', tone: 'muted'}]
  const out: Line[] = [{text: 'Winning bids over time, per model (oldest → newest)', bold: true}]
  for (const m of pulse.models) {
    out.push({text: ''}, {text: `${m.modelName ?? '(spec unreadable)'} ${m.modelHash}`, bold: true})
    out.push({text: sparkline(m.points, Math.max(10, width - 2)) || '(no winning bids yet)', tone: 'accent'})
    const unit = m.unit === 'per-1k-tokens' ? 'oGPU per 1k tokens' : 'oGPU per item (spec unreadable: no maxTokens)'
    out.push({text: `last ${m.last ?? '-'}, median ${m.median ?? '-'} ${unit}; ${m.samples} won, ${m.open} open`})
  }
  return out
}

export function eventPaneLines(events: readonly EventLine[], full = false): Line[] {
  if (events.length === 0) return [{text: 'no events yet', tone: 'muted'}]
  return events.map((e) => ({
    text: full ? `${fit(String(e.block), 8, 'right')}  ${e.text}` : e.text,
    tone: e.name === 'TaskFailed' || e.name === 'VoterSlashed' ? 'bad' : e.name === 'TaskAssigned' || e.name === 'TaskFinalized' ? 'good' : e.name === 'BidPlaced' ? undefined : 'muted',
  }))
}

export function streamPaneLines(streams: StreamsView): Line[] {
  if (streams.kind !== 'live' || streams.streams.length === 0) return streamsLines(streams).map((text) => ({text, tone: 'muted'}))
  // Healthy streams plain, short of live subscribers in yellow, with none live in red, ended ones dimmed.
  const tones: Record<string, Tone | undefined> = {ok: undefined, degraded: 'warn', down: 'bad', unknown: 'muted'}
  const lines: Line[] = streams.streams.map((s) => ({text: streamLine(s), tone: s.status === 'active' ? tones[s.health] : 'muted'}))
  if (streams.error) lines.unshift({text: `stale (${streams.error})`, tone: 'warn'})
  return lines
}

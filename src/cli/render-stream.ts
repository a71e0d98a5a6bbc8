import {formatDuration} from '../chain/account.js'
import type {DisputeJson, EndpointHealth, StreamDetailJson, StreamJson} from '../stream/view.js'
import {color, keyValues, table} from './format.js'

const short = (address: string): string => `${address.slice(0, 8)}…${address.slice(-4)}`

const method = (s: StreamJson): string => (s.council.method === 'weighted' ? `weighted ${s.council.weightBps / 100}%` : s.council.method)

export function renderStreamTable(streams: StreamJson[]): string {
  return table(
    ['ID', 'STATUS', 'MODEL', 'CLIENT', 'PER 1K GEN', 'PER 1K VER', 'SUBS', 'COUNCIL', 'DEPOSIT'],
    streams.map((s) => [
      s.id,
      s.status,
      s.modelHash.slice(2, 10),
      short(s.client),
      s.prices.generatedPerKToken.value,
      s.prices.verifiedPerKToken.value,
      s.subscriberCount,
      `${s.council.size} ${method(s)}`,
      s.deposit.value,
    ]),
  )
}

export function healthText(health: EndpointHealth): string {
  switch (health.state) {
    case 'live':
      return color.green('live')
    case 'unhealthy':
      return color.yellow(`unhealthy (HTTP ${health.httpStatus})`)
    case 'unreachable':
      return color.red(`unreachable (${health.reason})`)
    default:
      return '-'
  }
}

export function renderStream(s: StreamDetailJson, now: number): string {
  const closing =
    s.status === 'closing' && s.closeAt
      ? `${s.closeAt}${s.finalizable ? ' (over: `ogpu stream finalize ' + s.id + '`)' : ` (in ${formatDuration(Math.floor(new Date(s.closeAt).getTime() / 1000) - now)})`}`
      : undefined
  const parts = [
    keyValues([
      ['Stream', `${s.id} (${s.status})`],
      ['Client', s.client],
      ['Model', s.modelHash],
      ['Terms', `${s.specUri} (${s.specHash})`],
      ['Prices', `${s.prices.generatedPerKToken.value} oGPU per 1k generated, ${s.prices.verifiedPerKToken.value} oGPU per 1k verified`],
      ['Council', `${s.council.size}, ${method(s)}`],
      ['Collateral', `${s.collateral.value} oGPU per subscriber`],
      ['Deposit', `${s.deposit.value} oGPU unreserved, ${s.reserved.value} oGPU in subscribers' allowances`],
      ['Spent', `${s.spent.value} oGPU (redeemed by current subscribers)`],
      ['Notices', `unsubscribe ${formatDuration(s.notice.unsubscribeSeconds)}, close ${formatDuration(s.notice.closeSeconds)}`],
      ['Disputes', `bond ${s.disputes.bond.value} oGPU, commit ${formatDuration(s.disputes.commitWindowSeconds)}, reveal ${formatDuration(s.disputes.revealWindowSeconds)}`],
      ['Max downtime', formatDuration(s.maxDowntimeSeconds)],
      ['Created', s.createdAt ?? '-'],
      ['Closes', closing],
    ]),
  ]
  parts.push(
    s.subscribers.length === 0
      ? `\n${color.bold('Subscribers')}: none yet (providers join with \`ogpu stream subscribe ${s.id}\`)`
      : `\n${color.bold('Subscribers')} (in subscription order)\n${table(
          ['PROVIDER', 'STATUS', 'LOCKED', 'REDEEMED', 'ENDPOINT', 'HEALTH'],
          s.subscribers.map((sub) => [
            sub.address,
            sub.status === 'unsubscribing' && sub.noticeEnd ? `leaving ${sub.noticeEnd}` : sub.status + (sub.openDispute ? ` (dispute ${sub.openDispute})` : ''),
            sub.locked.value,
            sub.redeemed.value,
            sub.endpoint || '-',
            healthText(sub.health),
          ]),
        )}`,
  )
  if (s.openDisputes.length > 0)
    parts.push(
      `\n${color.bold('Open disputes')}\n${table(
        ['ID', 'PROVIDER', 'REVEAL ENDS', 'COMMITS', 'REVEALS', 'ACCEPT/REJECT'],
        s.openDisputes.map((d) => [d.id, d.provider, d.revealEnd ?? '-', `${d.commits}/${d.council.length}`, `${d.reveals}/${d.council.length}`, `${d.approvals}/${d.rejections}`]),
      )}`,
    )
  return parts.join('\n')
}

export function renderDispute(d: DisputeJson): string {
  return keyValues([
    ['Dispute', `${d.id} (${d.state})`],
    ['Stream', d.streamId],
    ['Provider', d.provider],
    ['Request', d.receipt.requestId],
    ['Response hash', d.receipt.responseHash],
    ['Tokens', `${d.receipt.promptTokens} prompt, ${d.receipt.completionTokens} completion`],
    ['Bond', `${d.bond.value} oGPU`],
    ['Council', d.state === 'seating' ? `not seated yet (drawn from the pool with the hash of block ${d.drawBlock}): \`ogpu stream dispute seat ${d.id}\`` : d.state === 'no-council' ? 'none: the pool could not seat a full council (bond refunded)' : d.council.map(short).join(', ')],
    ['Opened', d.openedAt ?? '-'],
    ['Commit ends', d.commitEnd ?? '-'],
    ['Reveal ends', d.revealEnd ?? '-'],
    ['Verdicts', `${d.commits} committed, ${d.reveals} revealed: ${d.approvals} valid, ${d.rejections} invalid`],
    ['Finalize', d.state === 'open' ? (d.finalizable ? `now: \`ogpu stream dispute finalize ${d.id}\`` : 'after the reveal phase') : undefined],
  ])
}

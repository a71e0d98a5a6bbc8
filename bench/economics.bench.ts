/**
 * bench/economics: what cheating and collusion are worth on a batch task, under the protocol's council rule
 * (a checkpoint is accepted only by a strict majority of the seated council, rejected by a strict majority, and
 * re-drawn once when neither; one council per task, drawn at random, weighted by stake, from the model's staked pool,
 * the executor excluded, as TaskMarket.seatCouncil does). A Monte Carlo simulation with a fixed seed, checked against
 * the closed forms docs/protocol.md states:
 *   - an attacker with stake share s captures a majority of a council of c with probability
 *     P(Binomial(c, s) >= floor(c/2) + 1), about s^ceil((c+1)/2) for small s;
 *   - an honest member that samples m of the n items of a segment, t of them tampered, catches it with probability
 *     1 - C(n-t, m) / C(n, m);
 *   - cheating (skipping t of the n items of each segment) beats honest work iff  cost × t/n > R × (price +
 *     collateral) + U × price,  R the probability that some checkpoint is rejected by a majority (the executor is
 *     slashed), U that one fails undecided twice (unpaid, not slashed). docs/protocol.md gives the parameter rule
 *     this table checks;
 *   - a dissenting attacker seat ties a council of even size; two ties in a row fail honest work undecided: the
 *     executor is unpaid for it but keeps its collateral, and the attacker gains nothing.
 * Usage: tsx bench/economics.bench.ts [--trials N] [--seed S]
 */
import {loadavg} from 'node:os'
import {parseArgs} from 'node:util'

const {values} = parseArgs({options: {trials: {type: 'string', default: '20000'}, seed: {type: 'string', default: '7'}}})
const TRIALS = Number(values.trials)
let state = BigInt(values.seed) || 1n

/** xorshift64*: reproducible across runs and machines. */
function random(): number {
  state ^= state >> 12n
  state ^= (state << 25n) & 0xffffffffffffffffn
  state ^= state >> 27n
  return Number(((state * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn) >> 11n) / 2 ** 53
}

interface Account {
  stake: number
  attacker: boolean
}

/** The staked pool: 30 honest providers with uneven stakes, and the attacker's share s split over 10 Sybil accounts. */
function pool(s: number): Account[] {
  const honest = Array.from({length: 30}, (_, i) => ({stake: 1 + (i % 7), attacker: false}))
  const total = honest.reduce((a, h) => a + h.stake, 0)
  const attackerStake = (s / (1 - s)) * total
  return [...honest, ...Array.from({length: 10}, () => ({stake: attackerStake / 10, attacker: true}))]
}

/** c seats drawn without replacement, weighted by stake (the contract's sortition). */
function drawCouncil(accounts: Account[], c: number): Account[] {
  const left = [...accounts]
  const seats: Account[] = []
  for (let i = 0; i < c && left.length > 0; i++) {
    const total = left.reduce((a, x) => a + x.stake, 0)
    let r = random() * total
    let j = 0
    while (j < left.length - 1 && r >= left[j]!.stake) r -= left[j++]!.stake
    seats.push(left.splice(j, 1)[0]!)
  }
  return seats
}

function choose(n: number, k: number): number {
  if (k < 0 || k > n) return 0
  let r = 1
  for (let i = 1; i <= k; i++) r = (r * (n - k + i)) / i
  return r
}

/** An honest member's chance to sample at least one of t tampered items among n, drawing m. */
const detect = (n: number, t: number, m: number) => 1 - choose(n - t, Math.min(m, n)) / choose(n, Math.min(m, n))

/** P(Binomial(c, s) > c/2): the attacker holds a strict majority of the seats. */
function captureExact(s: number, c: number): number {
  let p = 0
  for (let j = Math.floor(c / 2) + 1; j <= c; j++) p += choose(c, j) * s ** j * (1 - s) ** (c - j)
  return p
}

interface Scenario {
  s: number
  c: number
  /** Items each member samples. */
  m: number
  /** Items per checkpoint segment. */
  n: number
  /** Tampered items per segment (n: a garbage root). */
  t: number
  checkpoints: number
}

/** How a checkpoint's council rounds ended, as TaskMarket settles them: one council per task, seated from the pool;
 *  a checkpoint is accepted by a strict majority of accepts, rejected by a strict majority of rejects (the executor
 *  slashed), and otherwise (a tie) undecided: the council is re-drawn once, and a second undecided round fails the
 *  task `Undecided` with nobody slashed (the executor is not paid for the checkpoint). `approvals` counts a council's
 *  accepts; every seat reveals. */
type Outcome = 'accepted' | 'rejected' | 'undecided'
function judgeTask(accounts: Account[], c: number, checkpoints: number, approvals: (seats: Account[]) => number): {outcome: Outcome; captured: boolean} {
  let seats = drawCouncil(accounts, c)
  const captured = seats.filter((a) => a.attacker).length > c / 2 // the task's (first) council
  for (let k = 0; k < checkpoints; k++) {
    for (let round = 0; ; round++) {
      const yes = approvals(seats)
      if (yes > c / 2) break // accepted
      if (c - yes > c / 2) return {outcome: 'rejected', captured}
      if (round === 1) return {outcome: 'undecided', captured}
      seats = drawCouncil(accounts, c) // undecided: a fresh council judges the same root
    }
  }
  return {outcome: 'accepted', captured}
}

/** Simulated: the share of councils the attacker captures, and the shares of cheating executors rejected (slashed)
 *  and failed undecided twice (unpaid, not slashed). Attacker seats vote accept; an honest seat accepts only if its
 *  own sample missed every tampered item. */
function simulate(x: Scenario): {capture: number; rejected: number; undecided: number} {
  const accounts = pool(x.s)
  let captured = 0
  let rejected = 0
  let undecided = 0
  const approvals = (seats: Account[]) => {
    let yes = seats.filter((a) => a.attacker).length
    for (const seat of seats) if (!seat.attacker && random() >= detect(x.n, x.t, x.m)) yes++
    return yes
  }
  for (let trial = 0; trial < TRIALS; trial++) {
    const {outcome, captured: capturedNow} = judgeTask(accounts, x.c, x.checkpoints, approvals)
    if (capturedNow) captured++
    if (outcome === 'rejected') rejected++
    if (outcome === 'undecided') undecided++
  }
  return {capture: captured / TRIALS, rejected: rejected / TRIALS, undecided: undecided / TRIALS}
}

/** Simulated, for honest work: attacker seats vote reject, honest seats accept. The shares of tasks rejected by a
 *  captured council (the honest executor slashed) and failed undecided twice (ties: unpaid, not slashed). */
function simulateHonest(s: number, c: number, checkpoints: number): {rejected: number; undecided: number} {
  const accounts = pool(s)
  let rejected = 0
  let undecided = 0
  for (let trial = 0; trial < TRIALS; trial++) {
    const {outcome} = judgeTask(accounts, c, checkpoints, (seats) => seats.filter((a) => !a.attacker).length)
    if (outcome === 'rejected') rejected++
    if (outcome === 'undecided') undecided++
  }
  return {rejected: rejected / TRIALS, undecided: undecided / TRIALS}
}

const pct = (p: number) => `${(100 * p).toFixed(1)} %`
const table = (header: string[], rows: string[][]) => {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`
  console.log(line(header))
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`)
  for (const r of rows) console.log(line(r))
  console.log()
}

console.log(`Monte Carlo, ${TRIALS} trials per row, seed ${values.seed}; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n`)

// 1. Council capture: simulated against the closed forms.
console.log('### Council capture: P(the attacker holds a strict majority of the seats)\n')
const capRows: string[][] = []
for (const c of [1, 2, 3, 5, 7])
  for (const s of [0.1, 0.2, 1 / 3, 0.5]) {
    const {capture} = simulate({s, c, m: 4, n: 10, t: 10, checkpoints: 1})
    capRows.push([String(c), s.toFixed(2), pct(capture), pct(captureExact(s, c)), pct(s ** Math.ceil((c + 1) / 2))])
  }
table(['council c', 'stake share s', 'simulated', 'binomial', 's^⌈(c+1)/2⌉'], capRows)

// 2. A cheating executor at the devnet defaults: council 2, sample 4 of a 10-item segment, 2 checkpoints,
//    collateral = max price, price = max price (the Sybil bid), honest cost = price / 1.2 (cost-plus margin 0.2).
const P = 1
const C = 1
const K = P / 1.2
console.log('### A cheating executor (garbage root), defaults: price = collateral = max price, honest cost = price / 1.2\n')
const evRows: string[][] = []
for (const c of [2, 3, 5])
  for (const s of [0, 0.1, 0.2, 1 / 3])
    for (const t of [10, 1]) {
      const {rejected, undecided} = simulate({s, c, m: 4, n: 10, t, checkpoints: 2})
      // Gain of cheating over honest work: the cost of the items not run (t of n), less what a rejection loses (the
      // price, not paid, and the collateral, slashed) and what an undecided failure loses (the price only).
      const gain = (K * t) / 10 - rejected * (P + C) - undecided * P
      evRows.push([String(c), s.toFixed(2), t === 10 ? 'all 10' : '1 of 10', pct(rejected), pct(undecided), `${gain >= 0 ? '+' : ''}${gain.toFixed(3)}`, gain < 0 ? 'yes' : 'NO'])
    }
table(['council c', 'stake share s', 'tampered', 'rejected R', 'undecided U', 'cheat − honest (× price)', 'cheating loses'], evRows)

// 3. The parameter rule: the collateral (× price) above which cheating loses for an attacker with a third of the
//    stake: collateral > (saved − (R + U) × price) / R, where saved = cost × t / n is the work skipped.
console.log('### Collateral needed so that cheating loses (s = 1/3): collateral > (saved − (R + U) × price) / R, saved = (price / 1.2) × t / n\n')
const ruleRows: string[][] = []
for (const c of [2, 3, 5])
  for (const m of [2, 4, 8])
    for (const t of [10, 5, 1]) {
      const {rejected, undecided} = simulate({s: 1 / 3, c, m, n: 10, t, checkpoints: 2})
      const saved = (K * t) / 10
      const need = rejected > 0 ? (saved - (rejected + undecided) * P) / rejected : saved > undecided * P ? Number.POSITIVE_INFINITY : 0
      ruleRows.push([String(c), String(m), `${t} of 10`, pct(rejected), pct(undecided), Number.isFinite(need) ? `${Math.max(0, need).toFixed(2)} × price` : 'none suffices'])
    }
table(['council c', 'sample m of 10', 'tampered', 'rejected R', 'undecided U', 'collateral needed'], ruleRows)

// 4. Collusion against an honest executor: a council whose majority the attacker holds can reject honest work and
//    share the slashed collateral. Its expected take per checkpoint is capture × collateral (all of it, at worst, goes
//    to the rejecting majority); the honest executor's expected loss is the same.
console.log('### Collusion: a captured council rejecting honest work (expected collateral taken per checkpoint, × collateral)\n')
const colRows: string[][] = []
for (const c of [2, 3, 5, 7]) {
  const row = [String(c)]
  for (const s of [0.1, 0.2, 1 / 3]) row.push(`${captureExact(s, c).toFixed(3)}`)
  colRows.push(row)
}
table(['council c', 's = 0.10', 's = 0.20', 's = 0.33'], colRows)

// 5. Griefing honest work with ties: attacker seats vote reject. A captured council rejects it (the executor slashed:
//    section 4); a tie in both councils of a checkpoint fails it undecided, with nobody slashed: the honest executor
//    is not paid for the failed checkpoint and keeps its collateral, the attacker gains nothing (its seats earn no fee
//    in an undecided round). Before, that failure burned the executor's collateral too.
console.log('### Griefing honest work (2 checkpoints): rejected by a captured council (slashed) / undecided twice (unpaid, not slashed)\n')
const griefRows: string[][] = []
for (const c of [2, 3, 4, 5])
  for (const s of [0.1, 0.2, 1 / 3]) {
    const {rejected, undecided} = simulateHonest(s, c, 2)
    griefRows.push([String(c), s.toFixed(2), pct(rejected), pct(undecided), (rejected * C).toFixed(3)])
  }
table(['council c', 'stake share s', 'rejected (slashed)', 'undecided twice (no slash)', 'expected collateral lost (× collateral)'], griefRows)

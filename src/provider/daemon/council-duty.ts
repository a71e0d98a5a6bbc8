/**
 * Council duty on batch tasks: for each checkpoint under review where this provider holds a seat, check a seeded
 * sample of the executor's items (fetch them with their proofs, re-run them), then commit and reveal the verdict
 * through the verdict-duty client (../verdict-duty.ts, which also documents the policy when a check cannot be made:
 * here, a reject).
 */
import {performance} from 'node:perf_hooks'

import type {ContractTransactionResponse} from 'ethers'

import {errorText} from '../../chain/errors.js'
import type {IndexedTask} from '../../market/types.js'
import type {TaskSpec} from '../../protocol/task-spec.js'
import {checkItems, type FetchOutcome, indicesToCheck} from '../council-check.js'
import {type Ballot, type BallotJournal, castVote, sendVoteStep} from '../verdict-duty.js'
import {type JobRunner, modelHex, type Models, type RolePorts} from './ports.js'

export interface CouncilPorts extends RolePorts {
  models: Models
  materials: {spec(task: IndexedTask): Promise<TaskSpec>}
  jobs: JobRunner
  /** This member's sample seed for checkpoint k (TaskMarket.memberSampleSeed at the seed block). */
  seedOf(taskId: number, k: number, seedBlock: number): Promise<string>
  /** The registered endpoint of a provider. */
  endpointOf(address: string): Promise<string>
  /** Fetches the served items at `indices` from the executor's items API (signed as this member). */
  fetchItems(request: {endpoint: string; executor: string; taskId: number; indices: number[]; timeoutMs: number}): Promise<Map<number, FetchOutcome>>
  market: {
    verdictCommitment(taskId: number, k: number, accept: boolean, salt: string, voter: string): Promise<string>
    commitVerdict(taskId: number, k: number, commitment: string): Promise<ContractTransactionResponse>
    revealVerdict(taskId: number, k: number, accept: boolean, salt: string): Promise<ContractTransactionResponse>
  }
  /** Whether the daemon is stopping now (a stopping verifier decides nothing). */
  stopping(): boolean
  /** Whether committed verdicts may be revealed now. Defaults to always. */
  mayReveal?: (taskId: number, k: number) => boolean
  /** Waits `ms` (the retry back-off while the executor does not serve yet). Defaults to a timer. */
  sleep?: (ms: number) => Promise<void>
}

const timer = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

export class CouncilDuty {
  constructor(private readonly ports: CouncilPorts) {}

  /** Starts what is due on checkpoint k (voting) of a task where we hold a seat: check, commit or reveal. */
  consider(task: IndexedTask, k: number, now: number): void {
    const p = this.ports
    const cp = task.checkpointList[k]!
    const vote = p.records.record(task.id)?.votes?.[k]
    const onChain = cp.verdicts[p.address]
    if (!vote) {
      if (onChain?.commitment) return // committed by an earlier install without this state: nothing we can reveal
      if (now < cp.commitEnd) p.jobs.spawn(`check:${task.id}:${k}`, () => this.check(task, k))
      return
    }
    if (!onChain?.commitment) {
      if (now < cp.commitEnd && vote.status !== 'failed' && p.jobs.due(`vote:${task.id}:${k}`, 1500)) p.jobs.spawn(`vote:${task.id}:${k}`, () => this.step('commit', task.id, k))
      return
    }
    if (vote.status !== 'done') p.records.appendSoon({t: 'vote-tx', taskId: task.id, k, status: 'done'})
    if (onChain.accept !== undefined || p.mayReveal?.(task.id, k) === false) return
    const commits = Object.values(cp.verdicts).filter((v) => v.commitment).length
    const open = commits >= task.council.length || now >= cp.commitEnd
    if (open && now < cp.revealEnd + 1 && p.jobs.due(`reveal:${task.id}:${k}`, 1500)) p.jobs.spawn(`reveal:${task.id}:${k}`, () => this.step('reveal', task.id, k))
  }

  /** Checks our sample of checkpoint k, then journals the verdict and its salt (fsync) before committing it. */
  async check(task: IndexedTask, k: number): Promise<void> {
    const p = this.ports
    const cp = task.checkpointList[k]!
    const model = p.models.get(modelHex(task.modelHash))
    let accept = false
    let indices: number[] = []
    let problems: string[] = []
    const started = performance.now()
    const cpu0 = process.cpuUsage()
    try {
      if (!model) throw new Error(`the model ${modelHex(task.modelHash).slice(0, 12)} is not loaded`)
      const spec = await p.materials.spec(task)
      const seed = await p.seedOf(task.id, k, cp.seedBlock)
      indices = indicesToCheck(task, spec, k, seed).indices
      const endpoint = await p.endpointOf(task.executor!)
      // Fetch; retry what fails (a restarting executor) until a quarter of the commit window (at least 3 s) is left,
      // plus a second for the uncertainty of our clock. A missing item at that point is a reject.
      const giveUpAt = cp.commitEnd - Math.max(3, task.commitWindow / 4) - 1
      const outcomes = new Map<number, FetchOutcome>()
      for (let attempt = 0; ; attempt++) {
        const wanted = indices.filter((i) => !outcomes.get(i)?.ok)
        const leftMs = (giveUpAt - p.clock.now()) * 1000
        const fetched = await p.fetchItems({endpoint, executor: task.executor!, taskId: task.id, indices: wanted, timeoutMs: Math.min(10_000, Math.max(1000, leftMs))})
        for (const [i, outcome] of fetched) outcomes.set(i, outcome)
        if (indices.every((i) => outcomes.get(i)?.ok) || p.clock.now() >= giveUpAt || p.stopping()) break
        if (attempt === 0) p.log.info('council', `Task ${task.id} checkpoint ${k}: the executor does not serve every item yet; retrying`, {taskId: task.id, k})
        await (p.sleep ?? timer)(Math.max(0, Math.min(2000, 250 * 2 ** attempt, (giveUpAt - p.clock.now()) * 1000)))
      }
      if (p.stopping()) return // decide after the restart, with the executor given its full chance
      const checked = await checkItems(model.engine, spec, task, k, indices, outcomes)
      accept = checked.accept
      problems = checked.items.filter((i) => !i.ok).map((i) => `item ${i.index}: ${i.reason}`)
    } catch (error) {
      if (p.stopping()) return
      accept = false // the check could not be made: a reject (../verdict-duty.ts)
      problems = [`could not check: ${errorText(error)}`]
    }
    const cpu = process.cpuUsage(cpu0)
    const sample = indices
    await castVote(this.ballot(task.id, k), this.journal(task.id, k, {sample, problems}), accept)
    p.log.info('council', `Task ${task.id} checkpoint ${k}: ${accept ? 'accept' : 'REJECT'} (${indices.length} item(s) checked in ${Math.round(performance.now() - started)} ms)`, {
      taskId: task.id,
      k,
      sample: indices.join(','),
      cpuMs: Math.round((cpu.user + cpu.system) / 1000),
      ...(problems.length ? {problems: problems.slice(0, 5)} : {}),
    })
    await this.step('commit', task.id, k)
  }

  private async step(step: 'commit' | 'reveal', taskId: number, k: number): Promise<void> {
    const vote = this.ports.records.record(taskId)?.votes?.[k]
    if (!vote) return
    await sendVoteStep(step, vote, this.ballot(taskId, k), this.journal(taskId, k), this.ports)
  }

  private ballot(taskId: number, k: number): Ballot {
    const {market, address} = this.ports
    return {
      label: `Task ${taskId} checkpoint ${k}`,
      topic: 'council',
      verdictWord: (accept) => (accept ? 'accept' : 'reject'),
      commitment: (accept, salt) => market.verdictCommitment(taskId, k, accept, salt, address),
      commit: (commitment) => market.commitVerdict(taskId, k, commitment),
      reveal: (accept, salt) => market.revealVerdict(taskId, k, accept, salt),
      reverts: {
        commit: {done: ['VerdictRoundAlreadyCommitted'], closed: ['VerdictRoundCommitClosed', 'TaskMarketNoOpenRound', 'TaskMarketUnexpectedStatus']},
        reveal: {done: ['VerdictRoundAlreadyRevealed', 'VerdictRoundRevealNotStarted'], closed: ['VerdictRoundRevealClosed', 'TaskMarketNoOpenRound']},
      },
    }
  }

  private journal(taskId: number, k: number, check: {sample: number[]; problems: string[]} = {sample: [], problems: []}): BallotJournal {
    const {records} = this.ports
    return {
      saveVote: (vote) => records.append({t: 'vote', taskId, k, ...vote, sample: check.sample, problems: check.problems}),
      saveStep: (step, status, detail) => {
        const t = step === 'commit' ? 'vote-tx' : 'reveal-tx'
        if (status === 'sent') records.appendSoon({t, taskId, k, status, ...detail})
        else records.append({t, taskId, k, status, ...detail})
      },
    }
  }
}

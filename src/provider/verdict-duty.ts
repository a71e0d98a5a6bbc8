/**
 * Verdict duty: the commit-reveal client of a council seat, one home for both councils a provider sits on — a batch
 * task's checkpoint council (TaskMarket) and a stream dispute's council (StreamMarket). Both run the same
 * VerdictRound on chain: commit keccak(verdict, salt, voter) while the commit window is open, reveal the verdict
 * and salt once every seat committed or the window closed, and be slashed for a commitment never revealed.
 *
 * The journal rule: the verdict and its salt are durable (fsync) BEFORE the commitment is sent. A salt lost is a
 * reveal missed, and a reveal missed is stake lost. Each step's transaction hash is journaled once broadcast, so a
 * restarted provider knows what it sent; the chain says whether it landed.
 *
 * ## When the check cannot be made
 * The two councils judge different claims, so a failure to check means opposite things, on purpose:
 *  - **Batch checkpoint: reject.** The executor is paid to serve every sampled item with its proofs
 *    (docs/protocol.md, "Council"). An item it does not serve, or that cannot be re-run, is the executor's failure:
 *    accepting what nobody could check would pay for unverifiable work.
 *  - **Stream dispute: valid.** The disputing client carries the burden of proof: evidence that is missing, that
 *    does not match the receipt on chain, or that cannot be verified proves nothing against a provider-signed
 *    receipt. Otherwise any client could slash an honest provider by disputing with no evidence.
 *  - **A verifier that is stopping decides nothing.** It keeps no verdict and commits nothing; after its restart it
 *    checks again with the full window, so a restart never turns into a verdict the check did not support.
 */
import {randomBytes} from 'node:crypto'

import {hexlify, type ContractTransactionResponse} from 'ethers'

import {errorText, revertOf, type RevertName} from '../chain/errors.js'
import type {Logger} from './log.js'
import type {SendTx} from './tx-queue.js'

/** What a council does when it cannot check: the policy above, as data. */
export const WHEN_UNCHECKABLE = {batch: 'reject', dispute: 'valid'} as const

export interface Vote {
  accept: boolean
  salt: string
  commitment: string
}

export type VoteStep = 'commit' | 'reveal'

/** One seat's ballot on chain: the round's commitment function and its two transactions. */
export interface Ballot {
  /** Names the round in logs and transaction descriptions, e.g. "Task 3 checkpoint 0" or "Dispute 5". */
  label: string
  /** The log topic. */
  topic: string
  /** How a verdict reads in logs, e.g. accept/reject or valid/invalid. */
  verdictWord(accept: boolean): string
  commitment(accept: boolean, salt: string): Promise<string>
  commit(commitment: string): Promise<ContractTransactionResponse>
  reveal(accept: boolean, salt: string): Promise<ContractTransactionResponse>
  /** Reverts of a step meaning: done already (nothing to record), or never possible any more (recorded as failed). */
  reverts: Record<VoteStep, {done: readonly RevertName[]; closed: readonly RevertName[]; quiet?: readonly RevertName[]}>
}

/** Where the seat's vote and the steps' transactions are journaled. */
export interface BallotJournal {
  /** Durable before it returns (fsync): the salt must survive any crash after this. */
  saveVote(vote: Vote): void
  saveStep(step: VoteStep, status: 'sent' | 'done' | 'failed', detail: {tx?: string; error?: string}): void
}

export interface VerdictDutyPorts {
  sendTx: SendTx
  log: Logger
}

/** Draws a salt, asks the chain for the commitment and journals the vote (durably). The commit is a separate step. */
export async function castVote(ballot: Ballot, journal: BallotJournal, accept: boolean): Promise<Vote> {
  const salt = hexlify(randomBytes(32))
  const commitment = await ballot.commitment(accept, salt)
  const vote = {accept, salt, commitment}
  journal.saveVote(vote)
  return vote
}

/**
 * Sends one step (commit or reveal) of a journaled vote. Returns what happened: done (mined now), skipped (the
 * chain says it was done already), failed (it can never succeed: journaled as failed), or retry (try again later).
 */
export async function sendVoteStep(step: VoteStep, vote: Vote, ballot: Ballot, journal: BallotJournal, ports: VerdictDutyPorts): Promise<'done' | 'skipped' | 'failed' | 'retry'> {
  const what = `${ballot.label}: ${step} the verdict`
  try {
    const receipt = await ports.sendTx(
      what,
      () => (step === 'commit' ? ballot.commit(vote.commitment) : ballot.reveal(vote.accept, vote.salt)),
      (hash) => journal.saveStep(step, 'sent', {tx: hash}),
    )
    journal.saveStep(step, 'done', {tx: receipt.hash})
    ports.log.info(ballot.topic, step === 'commit' ? `${ballot.label}: verdict committed` : `${ballot.label}: revealed ${ballot.verdictWord(vote.accept)}`, {tx: receipt.hash})
    return 'done'
  } catch (error) {
    const name = revertOf(error)
    const rules = ballot.reverts[step]
    if (name && rules.done.includes(name)) return 'skipped'
    const closed = Boolean(name && rules.closed.includes(name))
    if (closed) journal.saveStep(step, 'failed', {error: errorText(error)})
    if (!name || !rules.quiet?.includes(name)) ports.log.warn(ballot.topic, `${ballot.label}: ${step === 'commit' ? 'committing' : 'revealing'} the verdict failed: ${errorText(error)}`, {revert: name})
    return closed ? 'failed' : 'retry'
  }
}

import {describe, expect, it} from 'vitest'

import {type Ballot, type BallotJournal, castVote, sendVoteStep, type Vote, WHEN_UNCHECKABLE} from '../../../../src/provider/verdict-duty.js'
import {instantSender, recordingLogger, response, revert} from './fakes.js'

function ballot(overrides: Partial<Ballot> = {}): Ballot & {calls: string[]} {
  const calls: string[] = []
  return {
    calls,
    label: 'Dispute 5',
    topic: 'dispute',
    verdictWord: (accept) => (accept ? 'valid' : 'invalid'),
    commitment: async (accept, salt) => `commit(${accept},${salt.length})`,
    commit: async (c) => {
      calls.push(`commit ${c}`)
      return response()
    },
    reveal: async (accept) => {
      calls.push(`reveal ${accept}`)
      return response()
    },
    reverts: {commit: {done: ['VerdictRoundAlreadyCommitted'], closed: ['VerdictRoundCommitClosed']}, reveal: {done: [], closed: ['VerdictRoundRevealClosed'], quiet: ['VerdictRoundRevealNotStarted']}},
    ...overrides,
  }
}

function journal(): BallotJournal & {votes: Vote[]; steps: string[]} {
  const votes: Vote[] = []
  const steps: string[] = []
  return {votes, steps, saveVote: (v) => void votes.push(v), saveStep: (step, status, d) => void steps.push(`${step} ${status}${d.error ? ' error' : ''}`)}
}

describe('verdict duty', () => {
  it('documents opposite fallbacks for the two councils when a check cannot be made', () => {
    expect(WHEN_UNCHECKABLE).toEqual({batch: 'reject', dispute: 'valid'})
  })

  it('journals the vote with a fresh 32-byte salt and the chain\'s commitment before anything is sent', async () => {
    const b = ballot()
    const j = journal()
    const vote = await castVote(b, j, false)
    expect(j.votes).toEqual([vote])
    expect(vote.salt).toMatch(/^0x[0-9a-f]{64}$/)
    expect(vote.commitment).toBe('commit(false,66)')
    expect(b.calls).toEqual([])
    expect((await castVote(b, j, false)).salt).not.toBe(vote.salt)
  })

  it('commits then reveals, journaling each step as sent and done', async () => {
    const b = ballot()
    const j = journal()
    const log = recordingLogger()
    const vote = await castVote(b, j, true)
    const sendTx = instantSender()
    expect(await sendVoteStep('commit', vote, b, j, {sendTx, log})).toBe('done')
    expect(await sendVoteStep('reveal', vote, b, j, {sendTx, log})).toBe('done')
    expect(b.calls).toEqual([`commit ${vote.commitment}`, 'reveal true'])
    expect(j.steps).toEqual(['commit sent', 'commit done', 'reveal sent', 'reveal done'])
    expect(log.lines.map((l) => l.message)).toEqual(['Dispute 5: verdict committed', 'Dispute 5: revealed valid'])
  })

  it('treats "done already" reverts as done, "closed" reverts as failed for good, and the rest as retry', async () => {
    const j = journal()
    const log = recordingLogger()
    const vote: Vote = {accept: true, salt: `0x${'00'.repeat(32)}`, commitment: '0xc'}
    const failing = (name: Parameters<typeof revert>[0]) =>
      ballot({
        commit: async () => {
          throw revert(name)
        },
        reveal: async () => {
          throw revert(name)
        },
      })
    const ports = {sendTx: instantSender(), log}
    expect(await sendVoteStep('commit', vote, failing('VerdictRoundAlreadyCommitted'), j, ports)).toBe('skipped')
    expect(j.steps).toEqual([])
    expect(await sendVoteStep('commit', vote, failing('VerdictRoundCommitClosed'), j, ports)).toBe('failed')
    expect(j.steps).toEqual(['commit failed error'])
    expect(await sendVoteStep('reveal', vote, failing('VerdictRoundRevealNotStarted'), j, ports)).toBe('retry')
    expect(await sendVoteStep('reveal', vote, failing('ERC20InsufficientBalance'), j, ports)).toBe('retry')
    expect(j.steps).toEqual(['commit failed error'])
    // The quiet revert is not worth a warning; the unexpected one is.
    expect(log.lines.filter((l) => l.level === 'warn').map((l) => l.fields?.revert)).toEqual(['VerdictRoundCommitClosed', 'ERC20InsufficientBalance'])
  })
})

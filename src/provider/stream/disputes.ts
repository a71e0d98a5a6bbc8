/**
 * Dispute duty. A dispute's council is drawn from the staked council pool of the stream's model by seatDispute, which
 * anyone may send from the block after the dispute's draw block; this provider seats every dispute on a model it
 * holds (the disputer's CLI usually has already; a revert because someone was first is fine). When it holds a seat
 * (DisputeCouncilSeated names it), it judges the response and votes through the same verdict-duty client as a batch
 * council member (../verdict-duty.ts: commit, then reveal; the salt durable BEFORE the commit is sent).
 *
 * The judgement: the evidence (pushed to /v1/ogpu/evidence and stored by receipt digest, else fetched from the
 * dispute's evidenceUri) must match the receipt on chain (keccak256(body) and the tokens give its responseHash, the
 * token count its completionTokens, and the accused signed it); then the tokens are verified by prefill. The burden
 * of proof is the client's: evidence that is missing or does not match the receipt proves nothing, and the verdict is
 * "valid" (the documented policy when a check cannot be made, WHEN_UNCHECKABLE.dispute). Only a verification that
 * fails makes it "invalid".
 *
 * After the reveal window (or once every seat revealed) anyone may finalize; this provider does it if nobody has.
 */
import type {TypedDataDomain} from 'ethers'

import {disputeCommitment, type StreamMarket} from '../../chain/contracts/stream-market.js'

import {errorText, revertOf} from '../../chain/errors.js'
import {GREEDY_EPSILON, verifyCompletion} from '../../gpu/verifier.js'
import {bodyHashOf, type EvidenceCallBody, type Receipt, receiptDigest, recoverReceipt, responseHashOf} from '../../protocol/stream.js'
import type {Logger} from '../log.js'
import type {SendTx} from '../tx-queue.js'
import {type Ballot, type BallotJournal, castVote, sendVoteStep} from '../verdict-duty.js'
import {DEFAULT_STREAM_LIMITS} from './auth.js'
import type {StreamBackend} from './backend.js'
import type {StreamBookStore} from './book.js'
import type {StreamEvent} from './market.js'
import {parseOpenAiRequest, promptTokensOf, storedEvidence} from './openai-api.js'

/** What DisputeOpened tells of a dispute. */
interface OpenedDispute {
  id: bigint
  streamId: bigint
  accused: string
  receipt: Receipt
  evidenceUri: string
  /** The block whose hash seeds the council draw (moved by DisputeDrawReanchored). */
  drawBlock: number
}

/** A dispute seated with a seat of ours. */
interface OpenDispute extends OpenedDispute {
  council: string[]
  commitEnd: number
  revealEnd: number
}

export interface DisputeDutyOptions {
  market: StreamMarket
  domain: TypedDataDomain
  book: StreamBookStore
  address: string
  evidenceDir: string
  backends: () => StreamBackend[]
  /** A backend over the model loaded here, by sha256 (verifies by prefill when the API backend is remote). Defaults to none. */
  localModel?: (sha256: string) => StreamBackend | undefined
  log: Logger
  sendTx: SendTx
  now: () => number
  spawn: (key: string, job: () => Promise<void>) => Promise<void> | undefined
  due: (key: string, everyMs: number) => boolean
}


/** Judges a disputed response from its evidence: {valid, reason}. */
export async function judgeEvidence(options: {
  receipt: Receipt
  accused: string
  domain: TypedDataDomain
  evidence: EvidenceCallBody | undefined
  backend: StreamBackend | undefined
}): Promise<{valid: boolean; reason: string}> {
  const {receipt, evidence, backend} = options
  if (!evidence) return {valid: true, reason: 'no evidence'}
  if (!Array.isArray(evidence.tokens) || typeof evidence.body !== 'string') return {valid: true, reason: 'malformed evidence'}
  if (responseHashOf(bodyHashOf(evidence.body), evidence.tokens) !== receipt.responseHash) return {valid: true, reason: 'the evidence does not give the receipt\'s response hash'}
  if (evidence.tokens.length !== receipt.completionTokens) return {valid: true, reason: 'the evidence\'s token count is not the receipt\'s'}
  if (typeof evidence.signature === 'string') {
    try {
      if (recoverReceipt(options.domain, receipt, evidence.signature) !== options.accused) return {valid: true, reason: 'the receipt in the evidence is not signed by the accused'}
    } catch {
      return {valid: true, reason: 'the receipt signature in the evidence is malformed'}
    }
  }
  if (!backend?.engine) return {valid: true, reason: 'cannot verify by prefill here (model not loaded locally)'}
  let original: Record<string, unknown>
  try {
    original = JSON.parse(evidence.body) as Record<string, unknown>
  } catch {
    return {valid: true, reason: 'the evidence body is not JSON'}
  }
  let request
  let prompt: number[]
  try {
    request = parseOpenAiRequest(Array.isArray(original.messages) ? 'chat' : 'completions', original, {...DEFAULT_STREAM_LIMITS, maxTokens: Number.MAX_SAFE_INTEGER})
    prompt = promptTokensOf(backend, request)
  } catch (error) {
    return {valid: true, reason: `the evidence body is not a request this provider can run: ${(error as Error).message}`}
  }
  if (prompt.length !== receipt.promptTokens) return {valid: false, reason: `the receipt claims ${receipt.promptTokens} prompt tokens; the request's prompt is ${prompt.length}`}
  // Stream output is greedy and prefill-consistent: the tight greedy ε (docs/protocol.md, verification tolerance).
  const result = await verifyCompletion(backend.engine, {
    prompt,
    completion: evidence.tokens,
    maxTokens: request.maxTokens - request.resumeTokens.length,
    epsilon: GREEDY_EPSILON,
  })
  if (result.ok) return {valid: true, reason: 'verified by prefill'}
  const f = result.firstFailure
  return {valid: false, reason: f?.reason === 'token' ? `token ${f.position} (${f.claimed}) is not the model's output (expected ${f.expected})` : `prefill: ${f?.reason ?? 'failed'} at ${f?.position ?? '?'}`}
}

export class DisputeDuty {
  /** Seated disputes with a seat of ours, until settled. */
  private readonly open = new Map<string, OpenDispute>()
  /** Opened disputes whose council is not seated yet. */
  private readonly seating = new Map<string, OpenedDispute>()
  /** Disputes on a model we do not hold: not ours to seat. */
  private readonly foreign = new Set<string>()

  constructor(private readonly options: DisputeDutyOptions) {}

  /** The StreamMarket's dispute events, in chain order. */
  onEvent(event: StreamEvent): void {
    const key = String(event.args.disputeId)
    switch (event.name) {
      case 'DisputeOpened': {
        const r = event.args.receipt as unknown as {streamId: bigint; requestId: string; responseHash: string; promptTokens: bigint; completionTokens: bigint}
        this.seating.set(key, {
          id: event.args.disputeId as bigint,
          streamId: event.args.streamId as bigint,
          accused: String(event.args.provider),
          receipt: {streamId: r.streamId, requestId: r.requestId, responseHash: r.responseHash, promptTokens: Number(r.promptTokens), completionTokens: Number(r.completionTokens)},
          evidenceUri: String(event.args.evidenceUri),
          drawBlock: Number(event.args.drawBlock),
        })
        return
      }
      case 'DisputeDrawReanchored': {
        const d = this.seating.get(key)
        if (d) d.drawBlock = Number(event.args.toBlock)
        return
      }
      case 'DisputeCouncilSeated': {
        const d = this.seating.get(key)
        this.seating.delete(key)
        this.foreign.delete(key)
        const council = (event.args.council as string[]).map(String)
        if (!d || !council.includes(this.options.address)) return
        this.open.set(key, {...d, council, commitEnd: Number(event.args.commitEnd), revealEnd: Number(event.args.revealEnd)})
        this.options.log.info('dispute', `Dispute ${key} on stream ${d.streamId}: we hold a seat (accused ${d.accused}), drawn from the council pool`, {disputeId: key, streamId: d.streamId.toString()})
        return
      }
      case 'DisputeDropped':
      case 'DisputeResolved':
        this.resolved(event.args.disputeId as bigint)
    }
  }

  resolved(disputeId: bigint): void {
    const key = disputeId.toString()
    this.open.delete(key)
    this.seating.delete(key)
    this.foreign.delete(key)
  }

  status(): Array<Record<string, unknown>> {
    return [...this.open.values()].map((d) => {
      const vote = this.options.book.state.disputes[d.id.toString()]
      const revealed = vote?.reveal?.status === 'done'
      // Secret until revealed: another member could copy a verdict seen early without judging anything.
      return {
        disputeId: d.id.toString(),
        streamId: d.streamId.toString(),
        accused: d.accused,
        verdict: revealed ? (vote.accept ? 'valid' : 'invalid') : null,
        reason: revealed ? vote.reason : null,
        committed: vote?.commit?.status === 'done',
        revealed,
      }
    })
  }

  tick(latestBlock: number): void {
    const now = this.options.now()
    for (const d of this.seating.values()) {
      const key = d.id.toString()
      // From the draw block on: the transaction is mined in a later block (a "too early" revert is retried).
      if (latestBlock >= d.drawBlock && !this.foreign.has(key) && this.options.due(`seat-dispute:${key}`, 2000)) this.options.spawn(`seat-dispute:${key}`, () => this.seat(d))
    }
    for (const d of this.open.values()) {
      const key = d.id.toString()
      const vote = this.options.book.state.disputes[key]
      if (!vote) {
        if (now < d.commitEnd && this.options.due(`judge:${key}`, 1000)) this.options.spawn(`judge:${key}`, () => this.judgeAndCommit(d))
        continue
      }
      if (this.options.due(`dispute-chain:${key}`, 1000)) this.options.spawn(`dispute:${key}`, () => this.advance(d))
    }
  }

  private async judgeAndCommit(d: OpenDispute): Promise<void> {
    const key = d.id.toString()
    const digest = receiptDigest(this.options.domain, d.receipt)
    let evidence = storedEvidence(this.options.evidenceDir, digest)
    if (!evidence && /^https?:\/\//.test(d.evidenceUri)) {
      try {
        const response = await fetch(d.evidenceUri, {signal: AbortSignal.timeout(10_000)})
        if (response.ok) evidence = (await response.json()) as EvidenceCallBody
      } catch (error) {
        this.options.log.warn('dispute', `Dispute ${key}: fetching the evidence from ${d.evidenceUri} failed: ${errorText(error)}`)
      }
    }
    const stream = await this.options.market.getStream(d.streamId)
    // The disputer pushes its evidence once the council is seated: through the first half of the commit window a
    // seat waits for it (and retries the URI) before it judges without (which, the burden being the disputer's, is "valid").
    if (!evidence && this.options.now() < d.commitEnd - Number(stream.commitWindow) / 2) return
    const sha = stream.modelHash.toLowerCase().replace(/^0x/, '')
    const backend = this.options.localModel?.(sha) ?? this.options.backends().find((b) => b.sha256 === sha && b.engine)
    let judged: {valid: boolean; reason: string}
    try {
      judged = await judgeEvidence({receipt: d.receipt, accused: d.accused, domain: this.options.domain, evidence, backend})
    } catch (error) {
      judged = {valid: true, reason: `could not verify: ${errorText(error)}`}
    }
    // The salt is durable before the commitment goes on chain: a salt lost is a reveal missed (and a slash).
    await castVote(this.ballot(d), this.journal(d, judged.reason), judged.valid)
    this.options.log.info('dispute', `Dispute ${key}: the response is ${judged.valid ? 'valid' : 'INVALID'} (${judged.reason})`, {disputeId: key})
    await this.advance(d)
  }

  /** Seats the council of a dispute on a model we hold (anyone may: the first to send wins, the others revert). */
  private async seat(d: OpenedDispute): Promise<void> {
    const key = d.id.toString()
    const stream = await this.options.market.getStream(d.streamId)
    const sha = stream.modelHash.toLowerCase().replace(/^0x/, '')
    if (!this.options.backends().some((b) => b.sha256 === sha)) {
      this.foreign.add(key)
      return
    }
    try {
      const receipt = await this.options.sendTx(`Seat the council of dispute ${key}`, () => this.options.market.seatDispute(d.id))
      this.options.log.info('dispute', `Dispute ${key}: seated its council from the pool`, {disputeId: key, tx: receipt.hash})
    } catch (error) {
      const name = revertOf(error)
      // Another account seated it first (the event follows), or it is no longer seating: nothing to do.
      if (name === 'StreamMarketNotSeating') this.seating.delete(key)
      else this.options.log.debug('dispute', `Dispute ${key}: seating not sent: ${errorText(error)}`, {revert: name})
    }
  }

  /** Commit, reveal, finalize: whichever is due on chain. */
  private async advance(d: OpenDispute): Promise<void> {
    const key = d.id.toString()
    const vote = this.options.book.state.disputes[key]
    if (!vote) return
    const me = this.options.address
    const [dispute, mine] = await Promise.all([this.options.market.getDispute(d.id), this.options.market.verdictOf(d.id, me)])
    if (Number(dispute.state) !== 1) {
      this.open.delete(key)
      return
    }
    const now = this.options.now()
    const seats = dispute.council.length
    if (!mine.committed) {
      if (now >= d.commitEnd || vote.commit?.status === 'failed') return this.maybeFinalize(d, dispute, now)
      await sendVoteStep('commit', vote, this.ballot(d), this.journal(d, vote.reason), this.options)
      return
    }
    if (vote.commit?.status !== 'done') this.options.book.appendSoon({t: 'dispute-tx', disputeId: key, step: 'commit', status: 'done'})
    if (!mine.revealed) {
      const revealOpen = Number(dispute.commits) >= seats || now >= d.commitEnd
      if (!revealOpen || now >= d.revealEnd + 1 || vote.reveal?.status === 'failed') return this.maybeFinalize(d, dispute, now)
      await sendVoteStep('reveal', vote, this.ballot(d), this.journal(d, vote.reason), this.options)
      return
    }
    await this.maybeFinalize(d, dispute, now)
  }

  /** The dispute's seat as a ballot of the one verdict-duty client (../verdict-duty.ts). */
  private ballot(d: OpenDispute): Ballot {
    const {market, address, domain} = this.options
    return {
      label: `Dispute ${d.id}`,
      topic: 'dispute',
      verdictWord: (accept) => (accept ? 'valid' : 'invalid'),
      // IStreamMarket.commitVerdict's formula, in the market's EIP-712 domain (chain id and address)
      commitment: async (accept, salt) => disputeCommitment(BigInt(domain.chainId!), String(domain.verifyingContract), d.id, accept, salt, address),
      commit: (commitment) => market.commitVerdict(d.id, commitment),
      reveal: (accept, salt) => market.revealVerdict(d.id, accept, salt),
      reverts: {
        commit: {done: [], closed: ['VerdictRoundCommitClosed']},
        reveal: {done: [], closed: ['VerdictRoundRevealClosed'], quiet: ['VerdictRoundRevealNotStarted']},
      },
    }
  }

  private journal(d: OpenDispute, reason: string): BallotJournal {
    const {book} = this.options
    const disputeId = d.id.toString()
    return {
      saveVote: (vote) => book.append({t: 'dispute-vote', disputeId, streamId: d.streamId.toString(), ...vote, reason}),
      saveStep: (step, status, detail) => (status === 'sent' ? book.appendSoon : book.append).call(book, {t: 'dispute-tx', disputeId, step, status, ...detail}),
    }
  }

  private async maybeFinalize(d: OpenDispute, dispute: {reveals: bigint; council: string[]}, now: number): Promise<void> {
    if (Number(dispute.reveals) < dispute.council.length && now < d.revealEnd + 1) return
    const key = d.id.toString()
    try {
      const receipt = await this.options.sendTx(`Finalize dispute ${key}`, () => this.options.market.finalizeDispute(d.id))
      this.options.log.info('dispute', `Dispute ${key}: finalized`, {disputeId: key, tx: receipt.hash})
      this.open.delete(key)
    } catch (error) {
      const name = revertOf(error)
      if (name === 'StreamMarketDisputeNotOpen') this.open.delete(key)
      else this.options.log.debug('dispute', `Dispute ${key}: finalize not sent: ${errorText(error)}`, {revert: name})
    }
  }
}

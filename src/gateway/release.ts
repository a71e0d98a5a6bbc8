/**
 * When the gateway may release a response to its caller, from the stream's response method (IStreamMarket's
 * ResponseMethod) and the verdicts of the council so far.
 *
 * A response needs `required` approvals out of the council of c: the generator's own signed receipt counts as one,
 * the other c − 1 come from verifiers (POST /v1/ogpu/verify). Optimistic releases at once (required = 1, verification
 * runs afterwards); Weighted needs ⌈w·c⌉ (w = weightBps / 10,000); Unanimous needs all c.
 */

export type ResponseMethod = 'optimistic' | 'weighted' | 'unanimous'

/** IStreamMarket.ResponseMethod's on-chain numbering. */
export const RESPONSE_METHODS: readonly ResponseMethod[] = ['optimistic', 'weighted', 'unanimous']

export function responseMethodOf(value: number | bigint): ResponseMethod {
  const method = RESPONSE_METHODS[Number(value)]
  if (!method) throw new RangeError(`Unknown response method ${value}.`)
  return method
}

/** Approvals a response needs before it goes out, the generator's receipt included (1..c). */
export function requiredApprovals(method: ResponseMethod, councilSize: number, weightBps: number): number {
  if (!Number.isInteger(councilSize) || councilSize < 1) throw new RangeError(`Council size must be a positive integer (got ${councilSize}).`)
  switch (method) {
    case 'optimistic':
      return 1
    case 'unanimous':
      return councilSize
    case 'weighted': {
      if (!Number.isInteger(weightBps) || weightBps < 1 || weightBps > 10_000) throw new RangeError(`Weight must be 1..10000 basis points (got ${weightBps}).`)
      // ceil(w·c) in integers: ceil(weightBps · c / 10,000), at least the generator itself.
      return Math.max(1, Math.ceil((weightBps * councilSize) / 10_000))
    }
  }
}

/** Where a response stands: `release` (send it), `wait` (verdicts still to come), `fail` (it can no longer pass). */
export type ReleaseDecision = 'release' | 'wait' | 'fail'

/**
 * Tracks the verdicts on one response. `approve`, `reject` and `abstain` (a verifier that did not answer, or answered
 * with a bad signature) each settle one of the c − 1 verifier seats.
 */
export class ReleaseGate {
  readonly required: number
  readonly verifiers: number
  approvals = 1 // the generator's receipt
  rejections = 0
  abstentions = 0

  constructor(
    readonly method: ResponseMethod,
    readonly councilSize: number,
    weightBps: number,
  ) {
    this.required = requiredApprovals(method, councilSize, weightBps)
    this.verifiers = councilSize - 1
  }

  get pending(): number {
    return this.verifiers - (this.approvals - 1) - this.rejections - this.abstentions
  }

  approve(): ReleaseDecision {
    this.approvals++
    return this.decision()
  }

  reject(): ReleaseDecision {
    this.rejections++
    return this.decision()
  }

  abstain(): ReleaseDecision {
    this.abstentions++
    return this.decision()
  }

  /**
   * `release` once the approvals reach the requirement; `fail` once they cannot any more (too many rejections or
   * abstentions), or, for Unanimous, at the first rejection. A rejection never blocks a Weighted release that has its
   * approvals (the dispute it triggers is separate).
   */
  decision(): ReleaseDecision {
    if (this.method === 'unanimous' && this.rejections > 0) return 'fail'
    if (this.approvals >= this.required) return 'release'
    if (this.approvals + this.pending < this.required) return 'fail'
    return 'wait'
  }

  /** Whether every verifier seat has answered (or abstained). */
  get settled(): boolean {
    return this.pending === 0
  }
}

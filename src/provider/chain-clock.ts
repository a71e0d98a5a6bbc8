/**
 * The chain's time as the provider sees it: the latest block's timestamp, advanced by the local clock between
 * blocks. Every deadline the daemon acts on (bidding end, commit and reveal windows) is in chain seconds.
 */

export interface BlockSource {
  /** The latest block's number and timestamp (unix seconds), or null when the node has none. */
  latest(): Promise<{number: number; timestamp: number} | null>
}

export class ChainClock {
  private state = {block: -1, timestamp: 0, offset: 0}

  constructor(
    private readonly blocks: BlockSource,
    /** Milliseconds now. Defaults to Date.now. */
    private readonly nowMs: () => number = Date.now,
  ) {}

  /** The latest block seen (-1 before the first update). */
  get block(): number {
    return this.state.block
  }

  /** Reads the latest block; a new one resets the estimate. */
  async update(): Promise<void> {
    const block = await this.blocks.latest()
    if (!block) return
    // A block's timestamp is whole seconds, and we see it a little after it was made: +0.5 s centres the estimate.
    if (block.number !== this.state.block) this.state = {block: block.number, timestamp: block.timestamp, offset: block.timestamp + 0.5 - this.nowMs() / 1000}
  }

  /** The chain's time now (unix seconds, fractional), estimated from the latest block; never before it. */
  now(): number {
    return Math.max(this.state.timestamp, this.nowMs() / 1000 + this.state.offset)
  }
}

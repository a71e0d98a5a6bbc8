/**
 * One transaction at a time from one wallet: nonces stay in order without a nonce manager, and a crash between
 * sends loses nothing (each caller journals the hash in `onSent`). Used by every role of the provider daemon.
 */
import type {ContractTransactionResponse, Provider, TransactionReceipt} from 'ethers'

import {sendTx, type WaitOptions} from '../chain/tx.js'

/** Sends one transaction through the queue: `what` names it in errors, `onSent` gets its hash once broadcast. */
export type SendTx = (what: string, send: () => Promise<ContractTransactionResponse>, onSent?: (hash: string) => void) => Promise<TransactionReceipt>

export class TxQueue {
  private chain: Promise<unknown> = Promise.resolve()
  private inFlight = 0

  constructor(
    private readonly provider: Provider,
    private readonly wait: WaitOptions,
  ) {}

  /** Transactions queued or in flight. */
  get pending(): number {
    return this.inFlight
  }

  readonly send: SendTx = (what, send, onSent) => {
    this.inFlight++
    const run = this.chain.then(() =>
      sendTx(
        this.provider,
        what,
        async () => {
          const response = await send()
          onSent?.(response.hash)
          return response
        },
        this.wait,
      ),
    )
    this.chain = run.catch(() => {}).finally(() => this.inFlight--)
    return run
  }

  /** Settles once every queued transaction has settled. */
  async settled(): Promise<void> {
    await this.chain.catch(() => {})
  }
}

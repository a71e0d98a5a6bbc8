/**
 * Typed events out of transaction receipts. The event comes from the typed binding (`market.getEvent('X')`), so an
 * event the ABI lacks does not compile, and its arguments have the ABI's names and types.
 */
import {getAddress, type Interface, type TransactionReceipt} from 'ethers'

import type {TypedContractEvent, TypedLogDescription} from './generated/common.js'

export type {TypedContractEvent} from './generated/common.js'

/** A typed binding: its interface and address (TypeChain contracts are constructed with a string address). */
export interface BoundContract {
  readonly interface: Interface
  readonly target: string | {getAddress(): Promise<string>}
}

export type EventArgs<E extends TypedContractEvent> = TypedLogDescription<E>['args']

/** The arguments an event is emitted with, in ABI order (what `interface.encodeEventLog` takes). */
export type EventInputs<E extends TypedContractEvent> = E extends TypedContractEvent<infer I> ? I : never

function addressOf(contract: BoundContract): string {
  if (typeof contract.target !== 'string') throw new TypeError('A typed contract binding must be constructed with its address.')
  return getAddress(contract.target)
}

/** The arguments of every `event` that `contract` emitted in `receipt`, in log order. */
export function eventsIn<E extends TypedContractEvent>(receipt: TransactionReceipt, contract: BoundContract, event: E): EventArgs<E>[] {
  const address = addressOf(contract)
  const topic = event.fragment.topicHash
  const out: EventArgs<E>[] = []
  for (const log of receipt.logs) {
    if (log.topics[0] !== topic || getAddress(log.address) !== address) continue
    out.push(contract.interface.decodeEventLog(event.fragment, log.data, log.topics) as unknown as EventArgs<E>)
  }
  return out
}

/** The arguments of the first `event` that `contract` emitted in `receipt`, or undefined. */
export function eventIn<E extends TypedContractEvent>(receipt: TransactionReceipt, contract: BoundContract, event: E): EventArgs<E> | undefined {
  return eventsIn(receipt, contract, event)[0]
}

import type {ContractTransactionResponse, Provider, TransactionReceipt, TransactionResponse} from 'ethers'

import {ExternalError, UserError} from '../errors/index.js'
import {fromChainError} from './errors.js'

export interface WaitOptions {
  /** Milliseconds to wait for the receipt. Defaults to 120000. */
  timeoutMs?: number
  /** Milliseconds between receipt polls. Defaults to 150. */
  pollMs?: number
}

/**
 * Sends a transaction and waits for its receipt by polling `eth_getTransactionReceipt` (ethers' own `wait()` has been
 * seen to stall on anvil). Reverts, before or after mining, become user errors decoded by name.
 */
export async function sendTx(
  provider: Provider,
  what: string,
  send: () => Promise<ContractTransactionResponse | TransactionResponse>,
  options: WaitOptions = {},
): Promise<TransactionReceipt> {
  let response: ContractTransactionResponse | TransactionResponse
  try {
    response = await send()
  } catch (error) {
    throw fromChainError(error) ?? error
  }
  const receipt = await waitForReceipt(provider, response.hash, what, options)
  if (receipt.status !== 1) {
    // Replay the call at the mined block to recover the revert reason.
    try {
      await provider.call({...response, blockTag: receipt.blockNumber})
    } catch (error) {
      throw fromChainError(error) ?? error
    }
    throw new UserError(`${what} was reverted on chain (transaction ${response.hash}).`, {code: 'REVERTED'})
  }
  return receipt
}

export async function waitForReceipt(provider: Provider, hash: string, what: string, options: WaitOptions = {}): Promise<TransactionReceipt> {
  const timeoutMs = options.timeoutMs ?? 120_000
  const pollMs = options.pollMs ?? 150
  const deadline = Date.now() + timeoutMs
  for (;;) {
    let receipt: TransactionReceipt | null
    try {
      receipt = await provider.getTransactionReceipt(hash)
    } catch (error) {
      throw fromChainError(error) ?? error
    }
    if (receipt) return receipt
    if (Date.now() > deadline)
      throw new ExternalError(`${what}: transaction ${hash} was not mined within ${Math.round(timeoutMs / 1000)} s.`, {
        code: 'TX_TIMEOUT',
        hint: 'The node may be stalled or the gas price too low. Check the transaction later; it may still be mined.',
        details: {hash},
      })
    await new Promise((resolve) => setTimeout(resolve, pollMs))
  }
}

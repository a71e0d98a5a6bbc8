import {Wallet} from 'ethers'

import {readBalances, type BalancesJson} from '../chain/account.js'
import {type ChainContext, withSigner} from '../chain/context.js'
import {sendTx} from '../chain/tx.js'
import {devKeys} from '../chain/dev-accounts.js'
import {UserError} from '../errors/index.js'

export interface FundOptions {
  /** ETH to send, in wei. Defaults to 0 (none). */
  eth?: bigint
  /** oGPU to mint, in base units. Defaults to 0 (none). */
  ogpu?: bigint
}

/** Devnet faucet: dev0 (the deployer and minter) sends ETH and mints oGPU to `address`. */
export async function fundOnDevnet(chain: ChainContext, address: string, options: FundOptions): Promise<BalancesJson & {txHashes: string[]}> {
  if (!chain.network.devnet)
    throw new UserError(`\`wallet fund\` works on the devnet only; "${chain.network.name}" is not a devnet.`, {
      code: 'NOT_A_DEVNET',
      hint: 'On a real chain, get ETH and oGPU from an exchange, a faucet or a friend.',
    })
  const faucet = new Wallet(devKeys(1)[0]!, chain.provider)
  const txHashes: string[] = []
  if (options.eth && options.eth > 0n) {
    const receipt = await sendTx(chain.provider, 'Send ETH', () => faucet.sendTransaction({to: address, value: options.eth}), chain.tx)
    txHashes.push(receipt.hash)
  }
  if (options.ogpu && options.ogpu > 0n) {
    const token = withSigner(chain.token, faucet)
    const receipt = await sendTx(chain.provider, 'Mint oGPU', () => token.mint(address, options.ogpu!), chain.tx)
    txHashes.push(receipt.hash)
  }
  return {...(await readBalances(chain, address)), txHashes}
}

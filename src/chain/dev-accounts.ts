/** The public test accounts of anvil (and of the devnet built on it). Not secrets: never hold value with them. */
import {HDNodeWallet} from 'ethers'

/** anvil's default mnemonic: its 10 accounts are public test accounts. */
export const DEV_MNEMONIC = 'test test test test test test test test test test test junk'
export const DEV_ACCOUNTS = 10

/** The devnet's public test keys, `dev0`..`dev9` (dev0 deploys and administers the contracts). */
export function devKeys(count = DEV_ACCOUNTS): string[] {
  const root = HDNodeWallet.fromPhrase(DEV_MNEMONIC, undefined, "m/44'/60'/0'/0")
  return Array.from({length: count}, (_, i) => root.deriveChild(i).privateKey)
}

import {existsSync, readFileSync} from 'node:fs'

import {Flags} from '@oclif/core'
import type {Wallet} from 'ethers'

import type {OgpuPaths} from '../config/paths.js'
import {CancelledError, UserError} from '../errors/index.js'
import {WalletStore} from '../wallet/wallet-store.js'

/** Flags of every command that signs. */
export const walletFlags = {
  wallet: Flags.string({
    char: 'w',
    description: 'Wallet to sign with. Defaults to the active wallet (`ogpu wallet use`).',
    helpGroup: 'WALLET',
    env: 'OGPU_WALLET',
  }),
  'password-file': Flags.string({
    description: 'Read the wallet password from this file (for scripts). OGPU_PASSWORD also works. Defaults to a prompt.',
    helpGroup: 'WALLET',
  }),
}

/** Gets a password: --password-file, then OGPU_PASSWORD, then an interactive prompt on a TTY. */
export async function readPassword(options: {passwordFile?: string; message: string; confirm?: boolean}): Promise<string> {
  if (options.passwordFile) {
    if (!existsSync(options.passwordFile))
      throw new UserError(`Password file ${options.passwordFile} does not exist.`, {code: 'PASSWORD_FILE_MISSING'})
    return readFileSync(options.passwordFile, 'utf8').replace(/\r?\n$/, '')
  }
  if (process.env.OGPU_PASSWORD !== undefined) return process.env.OGPU_PASSWORD
  if (!process.stdin.isTTY)
    throw new UserError('A wallet password is needed and there is no terminal to ask it in.', {
      code: 'NO_PASSWORD',
      hint: 'Set OGPU_PASSWORD or pass --password-file FILE.',
    })
  const {default: password} = await import('@inquirer/password')
  try {
    const first = await password({message: options.message, mask: '*'})
    if (options.confirm) {
      const second = await password({message: 'Repeat the password:', mask: '*'})
      if (first !== second) throw new UserError('The two passwords differ.', {code: 'PASSWORD_MISMATCH', hint: 'Nothing was saved. Try again.'})
    }
    return first
  } catch (error) {
    if ((error as Error).name === 'ExitPromptError') throw new CancelledError()
    throw error
  }
}

/** Opens the wallet a signing command uses (dev wallets open without a password). */
export async function unlockWallet(
  paths: OgpuPaths,
  flags: {wallet?: string; 'password-file'?: string},
): Promise<{name: string; wallet: Wallet}> {
  const store = new WalletStore(paths)
  const name = store.resolveName(flags.wallet)
  if (store.isDev(name)) return {name, wallet: await store.unlock(name)}
  const password = await readPassword({passwordFile: flags['password-file'], message: `Password of wallet "${name}":`})
  return {name, wallet: await store.unlock(name, password)}
}

import {existsSync, readFileSync} from 'node:fs'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {keyValues} from '../../cli/format.js'
import {readPassword, walletFlags} from '../../cli/wallet-flags.js'
import {UserError} from '../../errors/index.js'
import {type ImportSource, WalletStore, validateWalletName} from '../../wallet/wallet-store.js'

function readSecretFile(file: string, what: string): string {
  if (!existsSync(file)) throw new UserError(`${what} file ${file} does not exist.`, {code: 'FILE_NOT_FOUND'})
  return readFileSync(file, 'utf8').trim()
}

export default class WalletImport extends BaseCommand<typeof WalletImport> {
  static override summary = 'Import a wallet from a private key, a BIP-39 mnemonic or a Web3 keystore file.'
  static override description = 'Secrets are read from files (never from the command line, where they would land in the shell history). The imported key is re-encrypted with your ogpu password.'
  static override examples = [
    '<%= config.bin %> wallet import ops --private-key-file ./key.txt',
    '<%= config.bin %> wallet import ops --mnemonic-file ./words.txt --path "m/44\'/60\'/0\'/0/1"',
    '<%= config.bin %> wallet import ops --keystore ./UTC--2024...json --keystore-password-file ./old.txt',
  ]
  static override args = {name: Args.string({description: 'Name for the imported wallet.', required: true})}
  static override flags = {
    'private-key-file': Flags.string({description: 'File holding a hex private key.', exactlyOne: ['private-key-file', 'mnemonic-file', 'keystore']}),
    'mnemonic-file': Flags.string({description: 'File holding a BIP-39 mnemonic.'}),
    path: Flags.string({description: "HD derivation path for --mnemonic-file. Defaults to m/44'/60'/0'/0/0.", dependsOn: ['mnemonic-file']}),
    keystore: Flags.string({description: 'A Web3 v3 keystore JSON file (geth, MetaMask, ethers, foundry).'}),
    'keystore-password-file': Flags.string({description: 'Password of --keystore. Defaults to the new wallet password.', dependsOn: ['keystore']}),
    'password-file': walletFlags['password-file'],
  }

  async run() {
    const name = validateWalletName(this.args.name)
    const {flags} = this
    const store = new WalletStore(this.paths)
    store.assertFree(name)
    const password = await readPassword({passwordFile: flags['password-file'], message: `New password for "${name}":`, confirm: true})
    let source: ImportSource
    if (flags['private-key-file']) source = {privateKey: readSecretFile(flags['private-key-file'], 'Private key')}
    else if (flags['mnemonic-file']) source = {mnemonic: readSecretFile(flags['mnemonic-file'], 'Mnemonic'), path: flags.path}
    else
      source = {
        keystore: readSecretFile(flags.keystore!, 'Keystore'),
        keystorePassword: flags['keystore-password-file'] ? readFileSync(flags['keystore-password-file'], 'utf8').replace(/\r?\n$/, '') : password,
      }
    const info = await store.import(name, source, password)
    this.log(keyValues([['Wallet', info.name], ['Address', info.address], ['Keystore', info.file]]))
    return info
  }
}

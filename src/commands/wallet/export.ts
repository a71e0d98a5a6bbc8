import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {readPassword, walletFlags} from '../../cli/wallet-flags.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export default class WalletExport extends BaseCommand<typeof WalletExport> {
  static override summary = 'Print a wallet\'s private key (asks for its password). Anyone who sees it controls the funds.'
  static override examples = ['<%= config.bin %> wallet export alice', '<%= config.bin %> wallet export alice --json > backup.json']
  static override args = {name: Args.string({description: 'Wallet name. Defaults to the active wallet.'})}
  static override flags = {'password-file': walletFlags['password-file']}

  async run() {
    const store = new WalletStore(this.paths)
    const name = store.resolveName(this.args.name)
    const password = store.isDev(name) ? undefined : await readPassword({passwordFile: this.flags['password-file'], message: `Password of "${name}":`})
    const wallet = await store.unlock(name, password)
    this.logToStderr('Warning: this is the private key. Anyone who sees it controls the wallet.')
    this.log(wallet.privateKey)
    return {name, address: wallet.address, privateKey: wallet.privateKey}
  }
}

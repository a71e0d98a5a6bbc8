import {BaseCommand} from '../../cli/base-command.js'
import {table} from '../../cli/format.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export default class WalletList extends BaseCommand<typeof WalletList> {
  static override summary = 'List wallets; * marks the active one.'
  static override examples = ['<%= config.bin %> wallet list', '<%= config.bin %> wallet list --json']

  async run() {
    const wallets = new WalletStore(this.paths).list()
    if (wallets.length === 0) this.log('No wallets yet. Create one with `ogpu wallet create NAME` or start the devnet.')
    else this.log(table(['', 'NAME', 'ADDRESS', 'KIND'], wallets.map((w) => [w.active ? '*' : '', w.name, w.address, w.dev ? 'dev (public key)' : 'keystore'])))
    return {wallets}
  }
}

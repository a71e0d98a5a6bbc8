import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export default class WalletUse extends BaseCommand<typeof WalletUse> {
  static override summary = 'Make a wallet the active one (the default for every signing command).'
  static override examples = ['<%= config.bin %> wallet use alice', '<%= config.bin %> wallet use dev1']
  static override args = {name: Args.string({description: 'Wallet name.', required: true})}

  async run() {
    const info = new WalletStore(this.paths).use(this.args.name)
    this.log(`Active wallet: ${info.name} (${info.address})`)
    return info
  }
}

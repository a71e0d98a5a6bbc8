import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {color, keyValues} from '../../cli/format.js'
import {readPassword, walletFlags} from '../../cli/wallet-flags.js'
import {WalletStore, validateWalletName} from '../../wallet/wallet-store.js'

export default class WalletCreate extends BaseCommand<typeof WalletCreate> {
  static override summary = 'Create a wallet with a new random key, saved as an encrypted keystore.'
  static override description = 'The key is encrypted with your password (scrypt, Web3 keystore v3, file mode 0600) under <config dir>/keystores. The first wallet becomes the active one. Back it up with `ogpu wallet export`.'
  static override examples = [
    '<%= config.bin %> wallet create alice',
    'OGPU_PASSWORD=... <%= config.bin %> wallet create bot --json',
    '<%= config.bin %> wallet create bot --password-file ./pw.txt',
  ]
  static override args = {name: Args.string({description: 'Wallet name (letters, digits, - and _).', required: true})}
  static override flags = {'password-file': walletFlags['password-file']}

  async run() {
    const name = validateWalletName(this.args.name)
    const store = new WalletStore(this.paths)
    store.assertFree(name)
    const password = await readPassword({passwordFile: this.flags['password-file'], message: `New password for "${name}":`, confirm: true})
    const info = await store.create(name, password)
    this.log(keyValues([['Wallet', info.name], ['Address', info.address], ['Keystore', info.file], ['Active', info.active ? 'yes' : 'no (`ogpu wallet use`)']]))
    this.log(color.dim('\nKeep the password safe: without it the key cannot be recovered.'))
    return info
  }
}

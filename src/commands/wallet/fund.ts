import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {keyValues} from '../../cli/format.js'
import {parseAmount} from '../../chain/units.js'
import {fundOnDevnet} from '../../wallet/fund.js'
import {WalletStore} from '../../wallet/wallet-store.js'

export default class WalletFund extends BaseCommand<typeof WalletFund> {
  static override summary = 'Devnet faucet: send ETH and mint oGPU to a wallet.'
  static override description = 'Works on the embedded devnet only (dev0 pays the ETH and mints the oGPU).'
  static override examples = ['<%= config.bin %> wallet fund alice', '<%= config.bin %> wallet fund alice --eth 1 --ogpu 5000 --json']
  static override args = {name: Args.string({description: 'Wallet to fund. Defaults to the active wallet.'})}
  static override flags = {
    eth: Flags.string({description: 'ETH to send (decimal).', default: '10'}),
    ogpu: Flags.string({description: 'oGPU to mint (decimal).', default: '1000'}),
  }

  async run() {
    const eth = parseAmount(this.flags.eth, 'ETH amount', {allowZero: true})
    const ogpu = parseAmount(this.flags.ogpu, 'oGPU amount', {allowZero: true})
    const store = new WalletStore(this.paths)
    const info = store.get(store.resolveName(this.args.name))
    const result = await withChain(this.paths, this.flags, (chain) => fundOnDevnet(chain, info.address, {eth, ogpu}))
    this.log(keyValues([['Wallet', info.name], ['Address', result.address], ['ETH', result.eth.value], ['oGPU', result.ogpu.value]]))
    return {name: info.name, ...result}
  }
}

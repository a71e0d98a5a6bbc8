import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {color, keyValues} from '../../cli/format.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {describeHost, registerProvider} from '../../provider/registration.js'

export default class ProviderRegister extends BaseCommand<typeof ProviderRegister> {
  static override summary = 'Register this wallet as a GPU provider (or update its endpoint).'
  static override description = 'Records the public endpoint where clients and the council reach your provider, and the hash of a document describing this host. Bidding also needs free stake: see `ogpu stake deposit`.'
  static override examples = [
    '<%= config.bin %> provider register --endpoint https://gpu1.example.com',
    '<%= config.bin %> provider register --endpoint http://127.0.0.1:7070 --wallet dev1 --json',
  ]
  static override flags = {
    endpoint: Flags.string({description: 'Public http(s) URL of your provider\'s API.', required: true}),
    ...walletFlags,
  }

  async run() {
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const info = describeHost(this.config.version)
    const result = await withChain(this.paths, this.flags, (chain) => registerProvider(chain, wallet, {endpoint: this.flags.endpoint, info}))
    this.log(`${color.green(result.action === 'registered' ? 'Registered' : 'Updated')} provider ${result.address}.\n`)
    this.log(keyValues([['Endpoint', result.endpoint ?? ''], ['Info hash', result.infoHash ?? ''], ['Free stake', `${result.stake.free.value} oGPU`]]))
    if (result.stake.free.wei === '0') this.log(color.yellow('\nYou have no free stake yet: deposit some with `ogpu stake deposit AMOUNT` to bid on tasks.'))
    return {...result, info}
  }
}

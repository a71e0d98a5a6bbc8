import {Args} from '@oclif/core'
import {getAddress, isAddress} from 'ethers'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {amountJson, parseAmount} from '../../chain/units.js'
import {UserError} from '../../errors/index.js'
import {setAllowance} from '../../stream/chain.js'
import {parseId} from '../../stream/view.js'

export default class StreamAllowance extends BaseCommand<typeof StreamAllowance> {
  static override summary = 'Set what a subscriber can surely redeem on your stream (its allowance: a part of the deposit only it can redeem).'
  static override description = [
    'Providers count a voucher only up to what they can surely redeem on chain, so a subscriber serves only as much as its allowance covers (plus its credit limit).',
    'Raising it moves oGPU from the unreserved deposit at once (top up first if the deposit is short). Lowering it takes the close notice:',
    'the decrease is announced now (the provider stops counting it at once) and applied when you run this command again after the notice.',
    'The gateway (`ogpu client gateway`, `ogpu client chat`) keeps every subscriber at an equal share by itself; this command sets one by hand.',
  ].join(' ')
  static override examples = ['<%= config.bin %> stream allowance 1 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC 25', '<%= config.bin %> stream allowance 1 0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC 0 --json']
  static override args = {
    id: Args.string({description: 'Stream id.', required: true}),
    provider: Args.string({description: 'The subscriber (address).', required: true}),
    amount: Args.string({description: 'What it should be able to surely redeem, decimal oGPU, e.g. 12.5.', required: true}),
  }
  static override flags = {...walletFlags}

  async run() {
    const id = parseId(this.args.id)
    if (!isAddress(this.args.provider)) throw new UserError(`"${this.args.provider}" is not an address.`, {code: 'INVALID_ADDRESS', hint: 'Give the subscriber as 0x + 40 hex digits (`ogpu stream show ID` lists them).'})
    const provider = getAddress(this.args.provider)
    const amount = parseAmount(this.args.amount, 'amount', {allowZero: true})
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, (chain) => setAllowance(chain, wallet, id, provider, amount))
    const a = result.allowance
    const applied = result.appliedDue ? 'Applied the decrease whose notice was over. ' : ''
    if (result.action === 'increased') this.log(`${applied}${provider} can now surely redeem ${amountJson(a.surelyRedeemable).value} oGPU on stream ${id}.`)
    else if (result.action === 'decrease-requested')
      this.log(`${applied}Announced a decrease: ${provider} can surely redeem ${amountJson(a.surelyRedeemable).value} oGPU on stream ${id} from now on; the allowance itself drops at ${new Date(a.decreaseAt * 1000).toISOString()} (run this command again after that).`)
    else this.log(`${applied}${provider} can already surely redeem ${amountJson(a.surelyRedeemable).value} oGPU on stream ${id}.`)
    return {
      streamId: Number(id),
      provider,
      action: result.action,
      appliedDue: result.appliedDue,
      txHashes: result.txHashes,
      allowance: amountJson(a.left),
      pendingDecrease: amountJson(a.pendingDecrease),
      decreaseAt: a.decreaseAt || null,
      surelyRedeemable: amountJson(a.surelyRedeemable),
    }
  }
}

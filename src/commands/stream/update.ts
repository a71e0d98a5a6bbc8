import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {amountJson, parseAmount} from '../../chain/units.js'
import {UserError} from '../../errors/index.js'
import {getStream, updateTerms} from '../../stream/chain.js'
import {parseId} from '../../stream/view.js'

export default class StreamUpdate extends BaseCommand<typeof StreamUpdate> {
  static override summary = "Change your stream's prices (per 1,000 generated and per 1,000 verified tokens)."
  static override description = 'Applies to requests signed after the change; vouchers already signed stay valid. A price you leave out keeps its current value.'
  static override examples = ['<%= config.bin %> stream update 1 --price-generated 0.03', '<%= config.bin %> stream update 1 --price-generated 0.03 --price-verified 0.01 --json']
  static override args = {id: Args.string({description: 'Stream id.', required: true})}
  static override flags = {
    'price-generated': Flags.string({description: 'oGPU per 1,000 generated tokens. Defaults to the current price.'}),
    'price-verified': Flags.string({description: 'oGPU per 1,000 verified tokens. Defaults to the current price.'}),
    ...walletFlags,
  }

  async run() {
    const id = parseId(this.args.id)
    if (this.flags['price-generated'] === undefined && this.flags['price-verified'] === undefined)
      throw new UserError('Nothing to update.', {code: 'NOTHING_TO_UPDATE', hint: 'Pass --price-generated AMOUNT and/or --price-verified AMOUNT.'})
    const generated = this.flags['price-generated'] === undefined ? undefined : parseAmount(this.flags['price-generated'], '--price-generated', {allowZero: true})
    const verified = this.flags['price-verified'] === undefined ? undefined : parseAmount(this.flags['price-verified'], '--price-verified', {allowZero: true})
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, async (chain) => {
      const stream = await getStream(chain, id)
      const prices = {pricePerKTokenGenerated: generated ?? stream.pricePerKTokenGenerated, pricePerKTokenVerified: verified ?? stream.pricePerKTokenVerified}
      const tx = await updateTerms(chain, wallet, id, prices)
      return {streamId: Number(id), txHash: tx.txHash, prices: {generatedPerKToken: amountJson(prices.pricePerKTokenGenerated), verifiedPerKToken: amountJson(prices.pricePerKTokenVerified)}}
    })
    this.log(`Stream ${id} now costs ${result.prices.generatedPerKToken.value} oGPU per 1k generated and ${result.prices.verifiedPerKToken.value} oGPU per 1k verified tokens.`)
    return result
  }
}

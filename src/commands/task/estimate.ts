import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {keyValues} from '../../cli/format.js'
import {formatAmount} from '../../chain/units.js'
import {estimatePrice} from '../../market/estimate.js'
import {syncedIndexer} from '../../market/view.js'
import {loadTaskData} from '../../protocol/task-data.js'
import {loadTaskSpec} from '../../protocol/task-spec.js'

export default class TaskEstimate extends BaseCommand<typeof TaskEstimate> {
  static override summary = 'Predict what a spec will cost from recent winning bids for the same model, per 1k tokens.'
  static override description = 'Looks at the last --window tasks of the same model that were assigned, normalises each winning price by its output budget (items × maxTokens), and applies the median to this spec. It says how many tasks the prediction rests on.'
  static override examples = ['<%= config.bin %> task estimate examples/summarize.yaml', '<%= config.bin %> task estimate spec.yaml --window 50 --json']
  static override args = {spec: Args.string({description: 'Task spec (YAML).', required: true})}
  static override flags = {window: Flags.integer({description: 'How many recent tasks of the model to use.', default: 20, min: 1})}

  async run() {
    const loaded = loadTaskSpec(this.args.spec)
    const data = await loadTaskData(loaded.spec.data.uri, {items: loaded.spec.data.items, root: loaded.spec.data.root}, {baseDir: loaded.baseDir})
    const estimate = await withChain(this.paths, this.flags, async (chain) =>
      estimatePrice(
        await syncedIndexer(chain, this.paths),
        {modelHash: `0x${loaded.spec.model.sha256}`, items: data.items.length, maxTokens: loaded.spec.instructions.maxTokens, maxPrice: loaded.spec.payment.maxPrice},
        {window: this.flags.window},
      ),
    )
    if (estimate.samples === 0) this.log(`No assigned task of this model yet: no price to go by. Your max price is ${formatAmount(loaded.spec.payment.maxPrice)} oGPU.`)
    else
      this.log(
        keyValues([
          ['Predicted price', `${estimate.predicted} oGPU (${Math.round((estimate.ofMaxPrice ?? 0) * 100)}% of your max price ${formatAmount(loaded.spec.payment.maxPrice)})`],
          ['Per 1k tokens', `${estimate.perKiloToken} oGPU (low ${estimate.low}, high ${estimate.high})`],
          ['Output budget', `${estimate.tokens} tokens (${data.items.length} items × ${loaded.spec.instructions.maxTokens})`],
          ['Based on', `${estimate.samples} recent task(s) of this model`],
        ]),
      )
    return estimate
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {downloadResults, writeResults} from '../../market/results.js'
import {parseTaskId, requireTask, syncedIndexer} from '../../market/view.js'

export default class TaskResult extends BaseCommand<typeof TaskResult> {
  static override summary = 'Download a task\'s outputs from its executor, verify each against the committed roots, and save them.'
  static override description = 'Every item is checked against the task\'s data root and its checkpoint\'s result root on chain. If any item does not verify, nothing is written. The request is signed by your wallet: only the client and the council may read the items.'
  static override examples = ['<%= config.bin %> task result 3 --out results.jsonl', '<%= config.bin %> task result 3 --out results.jsonl --json']
  static override args = {id: Args.string({description: 'Task id.', required: true})}
  static override flags = {
    out: Flags.string({char: 'o', description: 'Write the results here as JSONL (one {index, id, completion, tokenIds, ...} per line).', required: true}),
    ...walletFlags,
  }

  async run() {
    const id = parseTaskId(this.args.id)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const results = await withChain(this.paths, this.flags, async (chain) => {
      const task = requireTask(await syncedIndexer(chain, this.paths), id)
      return downloadResults(chain, wallet, task)
    })
    writeResults(this.flags.out, results)
    this.log(`Saved ${results.length} verified result(s) to ${this.flags.out}.`)
    return {taskId: id, out: this.flags.out, count: results.length, results}
  }
}

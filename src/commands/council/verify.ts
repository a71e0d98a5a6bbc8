import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {color, table} from '../../cli/format.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {GPU_CHOICES, type GpuChoice} from '../../gpu/llama.js'
import {parseTaskId, requireTask, syncedIndexer} from '../../market/view.js'
import {councilVerify} from '../../provider/council-verify.js'

export default class CouncilVerify extends BaseCommand<typeof CouncilVerify> {
  static override summary = 'Check a task\'s committed checkpoints as the council does, and print a verdict per item.'
  static override description = `Fetches items from the executor with signed requests (only the client and the council may), checks each against the data root and the committed result root, re-tokenizes its prompt exactly as the executor does, and verifies the claimed completion by prefill (the spec's ε and max rank) — the same code as the daemon's council duty.

By default it checks this wallet's sample of each committed checkpoint (seed: memberSampleSeed on the market); --all checks every item. It needs the task's model in the store (\`ogpu model add\`).`
  static override examples = [
    '<%= config.bin %> council verify 3',
    '<%= config.bin %> council verify 3 --checkpoint 0 --all --wallet dev1',
    '<%= config.bin %> council verify 3 --json',
  ]
  static override args = {id: Args.string({description: 'Task id.', required: true})}
  static override flags = {
    checkpoint: Flags.integer({char: 'k', description: 'Check only this checkpoint. Defaults to every committed one.', min: 0}),
    all: Flags.boolean({description: 'Check every item, not only the sample.', default: false}),
    model: Flags.string({description: 'Model name, sha256 or .gguf path. Defaults to the store\'s model with the task\'s sha256.'}),
    gpu: Flags.string({description: 'Backend to use.', options: [...GPU_CHOICES], default: 'auto'}),
    threads: Flags.integer({description: 'Threads to use. Defaults to all math cores.', min: 1}),
    ...walletFlags,
  }

  async run() {
    const id = parseTaskId(this.args.id)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const result = await withChain(this.paths, this.flags, async (chain) => {
      const task = requireTask(await syncedIndexer(chain, this.paths), id)
      return councilVerify({
        paths: this.paths,
        chain,
        task,
        signer: wallet.connect(chain.provider),
        checkpoint: this.flags.checkpoint,
        all: this.flags.all,
        model: this.flags.model,
        gpu: this.flags.gpu as GpuChoice,
        threads: this.flags.threads,
        onNote: (message) => this.note(color.dim(message)),
      })
    })
    for (const cp of result.checkpoints) {
      this.log(`\nCheckpoint ${cp.k} (items ${cp.first}..${cp.end - 1}), ${result.all ? 'every item' : `sample of ${result.member}`}: ${cp.accept ? color.green('ACCEPT') : color.red('REJECT')}`)
      this.log(
        table(
          ['ITEM', 'ID', 'VERDICT', 'TOKENS', 'MS', 'REASON'],
          cp.items.map((i) => [i.index, i.id ?? '-', i.ok ? color.green('pass') : color.red('FAIL'), i.tokens, i.ms.toFixed(0), i.reason ?? '']),
        ),
      )
    }
    this.log(`\nTask ${result.taskId}: ${result.accept ? color.green('every checked item passes') : color.red('some items fail: a council should reject')} (method ${result.method}, executor ${result.executor}).`)
    return result
  }
}

import {mkdirSync} from 'node:fs'
import {dirname, join} from 'node:path'

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {openChainFromFlags} from '../../cli/chain.js'
import {color, keyValues} from '../../cli/format.js'
import {plainOutput, taskProgressSteps} from '../../cli/task-progress.js'
import {unlockWallet, walletFlags} from '../../cli/wallet-flags.js'
import {CancelledError} from '../../errors/index.js'
import {TaskFollower} from '../../market/follow.js'
import {downloadResults, writeResults} from '../../market/results.js'
import {publishSpec, submitTask} from '../../market/task-client.js'
import {syncedIndexer, taskJson} from '../../market/view.js'
import {loadTaskSpec} from '../../protocol/task-spec.js'

export default class TaskSubmit extends BaseCommand<typeof TaskSubmit> {
  static override summary = 'Submit a batch task from a spec file: validate, escrow the max price, and open the auction.'
  static override description = `Validates SPEC against the schema (\`ogpu task schema\`), loads its data and computes the Merkle root, escrows the max price plus council fees with a permit (one transaction) and submits the task.

With --wait it follows the task live: bids arriving, assignment, each checkpoint committed and validated, finalization, and the verified results downloaded. Ctrl-C stops following, not the task (\`ogpu task watch ID\` picks it up again).`
  static override examples = [
    '<%= config.bin %> task submit examples/summarize.yaml',
    '<%= config.bin %> task submit examples/summarize.yaml --wait',
    '<%= config.bin %> task submit spec.yaml --spec-uri https://example.org/spec.json --json',
  ]
  static override args = {spec: Args.string({description: 'Task spec (YAML).', required: true})}
  static override flags = {
    wait: Flags.boolean({description: 'Follow the task until it ends.', default: false}),
    out: Flags.string({char: 'o', description: 'With --wait: where to save the verified results (JSONL). Defaults to <data dir>/results/task-<id>.jsonl.'}),
    'spec-uri': Flags.string({description: 'Public URI where providers can read the published spec. Defaults to a file: URI (providers on this machine only).'}),
    ...walletFlags,
  }

  async run() {
    const loaded = loadTaskSpec(this.args.spec)
    const {wallet} = await unlockWallet(this.paths, this.flags)
    const chain = await openChainFromFlags(this.paths, this.flags)
    try {
      const published = await publishSpec(loaded, {specUri: this.flags['spec-uri'], specsDir: join(this.paths.dataDir, 'specs')})
      const submitted = await submitTask(chain, wallet, loaded.spec, published)
      this.log(
        keyValues([
          ['Task', submitted.taskId],
          ['Items', `${submitted.itemCount} (root ${submitted.dataRoot})`],
          ['Escrowed', `${submitted.escrow} oGPU`],
          ['Bidding ends', new Date(submitted.biddingEnd * 1000).toISOString()],
          ['Spec', submitted.specUri],
        ]),
      )
      if (!this.flags.wait) {
        this.log(color.dim(`\nFollow it with: ogpu task watch ${submitted.taskId}`))
        return submitted
      }
      const abort = new AbortController()
      const onSigint = () => abort.abort(new CancelledError(`Stopped following task ${submitted.taskId}; the task goes on. Follow it again with \`ogpu task watch ${submitted.taskId}\`.`))
      process.once('SIGINT', onSigint)
      try {
        const indexer = await syncedIndexer(chain, this.paths)
        const follower = new TaskFollower(indexer, submitted.taskId, {pollMs: chain.network.devnet ? 250 : 2000, signal: abort.signal})
        const {Listr} = await import('listr2')
        const out = this.flags.out ?? join(this.paths.dataDir, 'results', `task-${submitted.taskId}.jsonl`)
        let saved = 0
        const steps = new Listr([
          ...taskProgressSteps(follower, loaded.spec.instructions.checkpoints),
          {
            title: 'Downloading results',
            task: async (_, step) => {
              const results = await downloadResults(chain, wallet, indexer.task(submitted.taskId)!)
              mkdirSync(dirname(out), {recursive: true})
              writeResults(out, results)
              saved = results.length
              step.title = `Results: ${results.length} verified item(s) saved to ${out}`
            },
          },
        ], {
          fallbackRendererCondition: plainOutput,
          silentRendererCondition: () => this.jsonEnabled(),
          exitOnError: true,
          registerSignalListeners: false,
          rendererOptions: {collapseErrors: false},
        })
        await steps.run().catch((error: unknown) => {
          throw abort.signal.aborted ? abort.signal.reason : error
        })
        return {...submitted, task: taskJson(indexer.task(submitted.taskId)!), results: {out, count: saved}}
      } finally {
        process.off('SIGINT', onSigint)
      }
    } finally {
      chain.dispose()
    }
  }
}

import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {openChainFromFlags} from '../../cli/chain.js'
import {plainOutput, taskProgressSteps} from '../../cli/task-progress.js'
import {CancelledError} from '../../errors/index.js'
import {TaskFollower} from '../../market/follow.js'
import {parseTaskId, requireTask, syncedIndexer, taskJson} from '../../market/view.js'

export default class TaskWatch extends BaseCommand<typeof TaskWatch> {
  static override summary = 'Follow a task live until it ends: bids, assignment, checkpoints, verdicts, payments.'
  static override description = 'Ctrl-C stops watching; the task goes on.'
  static override examples = ['<%= config.bin %> task watch 3', '<%= config.bin %> task watch 3 --json']
  static override args = {id: Args.string({description: 'Task id.', required: true})}
  static override flags = {
    'poll-ms': Flags.integer({description: 'Milliseconds between chain polls. Defaults to 250 on the devnet, 2000 elsewhere.', min: 50}),
  }

  async run() {
    const id = parseTaskId(this.args.id)
    const chain = await openChainFromFlags(this.paths, this.flags)
    const abort = new AbortController()
    const onSigint = () => abort.abort(new CancelledError(`Stopped watching task ${id}; it goes on.`))
    process.once('SIGINT', onSigint)
    try {
      const indexer = await syncedIndexer(chain, this.paths)
      const task = requireTask(indexer, id)
      const follower = new TaskFollower(indexer, id, {pollMs: this.flags['poll-ms'] ?? (chain.network.devnet ? 250 : 2000), signal: abort.signal})
      const {Listr} = await import('listr2')
      await new Listr(taskProgressSteps(follower, task.checkpoints), {
        fallbackRendererCondition: plainOutput,
        silentRendererCondition: () => this.jsonEnabled(),
        exitOnError: true,
        registerSignalListeners: false,
      })
        .run()
        .catch((error: unknown) => {
          throw abort.signal.aborted ? abort.signal.reason : error
        })
      return taskJson(indexer.task(id)!)
    } finally {
      process.off('SIGINT', onSigint)
      chain.dispose()
    }
  }
}

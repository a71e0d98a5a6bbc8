import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {withChain} from '../../cli/chain.js'
import {renderTask} from '../../cli/render-task.js'
import {parseTaskId, requireTask, syncedIndexer, taskJson} from '../../market/view.js'

export default class TaskShow extends BaseCommand<typeof TaskShow> {
  static override summary = 'Show one task: spec, bid ladder, executor, council, checkpoints, verdicts and payments.'
  static override examples = ['<%= config.bin %> task show 3', '<%= config.bin %> task show 3 --json']
  static override args = {id: Args.string({description: 'Task id.', required: true})}

  async run() {
    const id = parseTaskId(this.args.id)
    const task = await withChain(this.paths, this.flags, async (chain) => taskJson(requireTask(await syncedIndexer(chain, this.paths), id)))
    this.log(renderTask(task))
    return task
  }
}

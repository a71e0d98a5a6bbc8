import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {color} from '../../cli/format.js'
import {ModelStore} from '../../gpu/model-store.js'

export default class ModelRemove extends BaseCommand<typeof ModelRemove> {
  static override summary = 'Remove a model from the store (and delete its file).'
  static override examples = ['<%= config.bin %> model remove llama-1b', '<%= config.bin %> model remove 9f86d081 --json']
  static override args = {
    model: Args.string({description: 'Model name, sha256, or a unique sha256 prefix (8+ hex digits).', required: true}),
  }

  async run() {
    const store = new ModelStore({dataDir: this.paths.dataDir})
    const removed = await store.remove(this.args.model)
    this.log(`${color.green('Removed')} "${removed.name}" (sha256 ${removed.sha256.slice(0, 12)}…).`)
    return {removed}
  }
}

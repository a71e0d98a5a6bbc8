import {BaseCommand} from '../../cli/base-command.js'
import {color, table} from '../../cli/format.js'
import {formatBytes, formatCount} from '../../gpu/format.js'
import {ModelStore} from '../../gpu/model-store.js'

export default class ModelList extends BaseCommand<typeof ModelList> {
  static override summary = 'List the models in the store.'
  static override examples = ['<%= config.bin %> model list', '<%= config.bin %> model list --json']

  async run() {
    const store = new ModelStore({dataDir: this.paths.dataDir})
    const models = await store.list()
    if (models.length === 0) this.log(color.dim('No models yet. Add one with `ogpu model add PATH|hf:USER/REPO/FILE.gguf`.'))
    else
      this.log(
        table(
          ['NAME', 'SHA256', 'SIZE', 'PARAMS', 'QUANT', 'ARCH', 'CONTEXT'],
          models.map((m) => [
            m.missing ? `${m.name} ${color.red('(file missing)')}` : m.name,
            m.sha256.slice(0, 12),
            formatBytes(m.sizeBytes),
            formatCount(m.parameters),
            m.fileType,
            m.architecture,
            m.contextLength ?? '-',
          ]),
        ),
      )
    return {dir: store.dir, models}
  }
}

import {BaseCommand} from '../../cli/base-command.js'
import {table} from '../../cli/format.js'
import {SettingsStore} from '../../config/settings.js'

export default class ConfigList extends BaseCommand<typeof ConfigList> {
  static override summary = 'List every setting with its value.'
  static override description = 'Shows each setting ogpu knows, its effective value and whether it is the default. Settings live in <config dir>/config.json (OGPU_CONFIG_DIR overrides the directory).'
  static override examples = ['<%= config.bin %> config list', '<%= config.bin %> config list --json']

  async run() {
    const store = new SettingsStore(this.paths)
    const settings = store.list()
    this.log(table(['KEY', 'VALUE', 'SOURCE'], settings.map((s) => [s.key, s.value || '(none)', s.isDefault ? 'default' : 'set'])))
    this.log(`\nFile: ${store.path}`)
    return {path: store.path, settings}
  }
}

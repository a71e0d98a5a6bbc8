import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {SettingsStore} from '../../config/settings.js'
import {UserError} from '../../errors/index.js'

export default class ConfigSet extends BaseCommand<typeof ConfigSet> {
  static override summary = 'Change a setting, or reset it to its default with --unset.'
  static override examples = [
    '<%= config.bin %> config set rpc.timeoutMs 30000',
    '<%= config.bin %> config set log.format json',
    '<%= config.bin %> config set rpc.timeoutMs --unset',
  ]
  static override args = {
    key: Args.string({description: 'Setting name (see `ogpu config list`).', required: true}),
    value: Args.string({description: 'New value.'}),
  }
  static override flags = {
    unset: Flags.boolean({description: 'Reset the setting to its default.', default: false}),
  }

  async run() {
    const {key, value} = this.args
    const store = new SettingsStore(this.paths)
    if (this.flags.unset) store.unset(key)
    else if (value === undefined) {
      throw new UserError(`No value given for ${key}.`, {code: 'MISSING_VALUE', hint: `Run \`ogpu config set ${key} VALUE\`, or --unset to reset it.`})
    } else store.set(key, value)
    const effective = store.get(key as Parameters<SettingsStore['get']>[0])
    this.log(`${key} = ${effective}`)
    return {key, value: effective}
  }
}

import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {SettingsStore, isSettingKey} from '../../config/settings.js'
import {UserError} from '../../errors/index.js'

export default class ConfigGet extends BaseCommand<typeof ConfigGet> {
  static override summary = 'Print the value of one setting.'
  static override examples = ['<%= config.bin %> config get network', '<%= config.bin %> config get rpc.timeoutMs --json']
  static override args = {key: Args.string({description: 'Setting name (see `ogpu config list`).', required: true})}

  async run() {
    const {key} = this.args
    if (!isSettingKey(key))
      throw new UserError(`Unknown setting "${key}".`, {code: 'UNKNOWN_SETTING', hint: 'Run `ogpu config list` to see the settings.'})
    const value = new SettingsStore(this.paths).get(key)
    this.log(value)
    return {key, value}
  }
}

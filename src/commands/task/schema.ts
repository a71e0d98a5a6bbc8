import {BaseCommand} from '../../cli/base-command.js'
import {taskSchema} from '../../protocol/task-schema.js'

export default class TaskSchema extends BaseCommand<typeof TaskSchema> {
  static override summary = 'Print the JSON Schema of task spec files, for editors to validate and autocomplete.'
  static override description = 'Save it and point your editor at it, e.g. with the YAML language server: put `# yaml-language-server: $schema=./task.schema.json` at the top of a spec.'
  static override examples = ['<%= config.bin %> task schema > task.schema.json']

  async run() {
    if (!this.jsonEnabled()) this.log(JSON.stringify(taskSchema, null, 2))
    return taskSchema
  }
}

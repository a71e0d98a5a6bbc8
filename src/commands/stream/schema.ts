import {BaseCommand} from '../../cli/base-command.js'
import {streamSchema} from '../../stream/schema.js'

export default class StreamSchema extends BaseCommand<typeof StreamSchema> {
  static override summary = 'Print the JSON Schema of stream spec files, for editors to validate and autocomplete.'
  static override description = 'Save it and point your editor at it, e.g. with the YAML language server: put `# yaml-language-server: $schema=./stream.schema.json` at the top of a spec.'
  static override examples = ['<%= config.bin %> stream schema > stream.schema.json']

  async run() {
    if (!this.jsonEnabled()) this.log(JSON.stringify(streamSchema, null, 2))
    return streamSchema
  }
}

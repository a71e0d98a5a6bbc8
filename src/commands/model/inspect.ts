import {Args} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {keyValues} from '../../cli/format.js'
import {formatBytes, formatCount} from '../../gpu/format.js'
import {ModelStore} from '../../gpu/model-store.js'

export default class ModelInspect extends BaseCommand<typeof ModelInspect> {
  static override summary = 'Show what a GGUF model is: architecture, parameters, quantization, context, layers, vocabulary.'
  static override description = 'Reads the GGUF header only (no weights are loaded). Works on a stored model (by name or sha256) or on any .gguf file by path, which is hashed (the hash is cached by size and mtime).'
  static override examples = ['<%= config.bin %> model inspect llama-1b', '<%= config.bin %> model inspect ./model.gguf --json']
  static override args = {
    model: Args.string({description: 'Model name, sha256 (or a unique prefix), or a path to a .gguf file.', required: true}),
  }

  async run() {
    const store = new ModelStore({dataDir: this.paths.dataDir})
    const inspection = await store.inspect(this.args.model)
    const g = inspection.gguf
    this.log(
      keyValues([
        ['Name', inspection.model?.name ?? g.name ?? '(not in the store)'],
        ['sha256', inspection.sha256],
        ['File', inspection.path],
        ['Size', formatBytes(g.sizeBytes)],
        ['GGUF version', g.ggufVersion],
        ['Architecture', g.architecture],
        ['Parameters', `${formatCount(g.parameters)} (${g.parameters})`],
        ['Quantization', g.fileType],
        ['Context length', g.contextLength],
        ['Layers', g.layers],
        ['Embedding size', g.embeddingSize],
        ['Feed-forward size', g.feedForwardSize],
        ['Attention heads', g.headCount === undefined ? undefined : `${g.headCount} (${g.headCountKv ?? g.headCount} KV)`],
        ['Vocabulary', g.vocabSize === undefined ? undefined : `${g.vocabSize} tokens (${g.tokenizer ?? 'unknown'} tokenizer)`],
        ['Chat template', g.hasChatTemplate ? 'yes' : 'no (a generic template is used)'],
        ['Tensors', g.tensorCount],
      ]),
    )
    return inspection
  }
}

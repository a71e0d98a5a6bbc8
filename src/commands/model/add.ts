import {Args, Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {color, keyValues} from '../../cli/format.js'
import {formatBytes, formatCount, progressLine} from '../../gpu/format.js'
import {ModelStore, type AddProgress} from '../../gpu/model-store.js'

export default class ModelAdd extends BaseCommand<typeof ModelAdd> {
  static override summary = 'Add a GGUF model to the store: a local file, hf:USER/REPO/FILE.gguf, or an https:// URL.'
  static override description = `The model's identity is the sha256 of its GGUF file, which is what tasks name. A local file is copied into the store (hashed during the copy); a remote one is downloaded with a progress bar, and an interrupted download resumes when you run the same command again. The file is checked (GGUF header, complete tensor data, and --sha256 when given) before it appears in the store: nothing half-written is ever listed.`
  static override examples = [
    '<%= config.bin %> model add ./models/llama-3.2-1b-q4_k_m.gguf',
    '<%= config.bin %> model add hf:bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf --name llama-1b',
    '<%= config.bin %> model add https://example.com/model.gguf --sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 --json',
  ]
  static override args = {
    source: Args.string({description: 'A path to a .gguf file, hf:USER/REPO/FILE.gguf[#BRANCH], or an https:// URL.', required: true}),
  }
  static override flags = {
    name: Flags.string({description: 'Local name of the model. Defaults to the file name without .gguf.'}),
    sha256: Flags.string({description: 'The sha256 the file must have (e.g. from a task); a mismatch adds nothing.'}),
  }

  async run() {
    const store = new ModelStore({dataDir: this.paths.dataDir})
    const controller = new AbortController()
    const onSigint = () => controller.abort()
    process.once('SIGINT', onSigint)
    const interactive = Boolean(process.stderr.isTTY)
    let lastLine = ''
    const show = (line: string) => {
      if (!interactive || line === lastLine) return
      lastLine = line
      process.stderr.write(`\r\u001B[2K${line}`)
    }
    const onProgress = (p: AddProgress) => {
      if (p.phase === 'download') show(`Downloading ${progressLine(p.downloadedBytes, p.totalBytes, p.bytesPerSecond)}${p.resumedFromBytes ? color.dim(' (resumed)') : ''}`)
      else if (p.phase === 'copy') show(`Copying ${progressLine(p.copiedBytes, p.totalBytes)}`)
      else show('Verifying the GGUF header…')
    }
    try {
      const result = await store.add({source: this.args.source, name: this.flags.name, sha256: this.flags.sha256, onProgress, signal: controller.signal})
      if (lastLine) process.stderr.write('\r\u001B[2K')
      const m = result.model
      this.log(result.alreadyPresent ? color.yellow(`Already in the store as "${m.name}".`) : color.green(`Added "${m.name}".`))
      this.log(
        keyValues([
          ['sha256', m.sha256],
          ['Size', formatBytes(m.sizeBytes)],
          ['Architecture', m.architecture],
          ['Parameters', formatCount(m.parameters)],
          ['Quantization', m.fileType],
          ['Context', m.contextLength],
          ['File', m.path],
        ]),
      )
      return result
    } finally {
      if (lastLine) process.stderr.write('\r\u001B[2K')
      process.removeListener('SIGINT', onSigint)
    }
  }
}

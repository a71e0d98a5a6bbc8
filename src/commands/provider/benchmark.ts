import {Flags} from '@oclif/core'

import {BaseCommand} from '../../cli/base-command.js'
import {color, keyValues, table} from '../../cli/format.js'
import {UserError} from '../../errors/index.js'
import {runBenchmark, saveBenchmark} from '../../gpu/benchmark.js'
import {formatBytes, formatCount} from '../../gpu/format.js'
import {GPU_CHOICES, type GpuChoice} from '../../gpu/llama.js'
import {ModelStore} from '../../gpu/model-store.js'

export default class ProviderBenchmark extends BaseCommand<typeof ProviderBenchmark> {
  static override summary = 'Measure prompt processing, generation and verification speed of a model on this machine.'
  static override description = 'Loads the model, measures prompt-processing tokens/s, generation tokens/s (one stream, and aggregate with concurrent streams), verification-by-prefill tokens/s and peak memory, and stores the result under <data dir>/benchmarks/ (keyed by the model sha256 and the backend) for bidding.'
  static override examples = [
    '<%= config.bin %> provider benchmark --model llama-1b',
    '<%= config.bin %> provider benchmark --model ./model.gguf --gpu cpu --threads 2 --json',
  ]
  static override flags = {
    model: Flags.string({description: 'Model name, sha256, or path to a .gguf file. Defaults to the only model in the store.'}),
    gpu: Flags.string({description: 'Backend to use.', options: [...GPU_CHOICES], default: 'auto'}),
    threads: Flags.integer({description: 'Threads to use. Defaults to all math cores.', min: 1}),
    'prompt-tokens': Flags.integer({description: 'Prompt length for the prompt-processing measurement.', default: 256, min: 8}),
    tokens: Flags.integer({description: 'Tokens to generate and verify per stream.', default: 128, min: 2}),
    streams: Flags.integer({description: 'Concurrent streams for the aggregate throughput (1 skips it).', default: 4, min: 1, max: 64}),
  }

  async run() {
    const store = new ModelStore({dataDir: this.paths.dataDir})
    let ref = this.flags.model
    if (ref === undefined) {
      const models = await store.list()
      if (models.length !== 1)
        throw new UserError(models.length === 0 ? 'No model to benchmark: the store is empty.' : `There are ${models.length} models in the store: say which one.`, {
          code: 'MODEL_REQUIRED',
          hint: models.length === 0 ? 'Add one with `ogpu model add`, or pass --model PATH.' : 'Pass --model NAME (see `ogpu model list`).',
        })
      ref = models[0]!.name
    }
    const located = await store.locate(ref)
    const controller = new AbortController()
    const onSigint = () => controller.abort()
    process.once('SIGINT', onSigint)
    try {
      const labels = {load: 'Loading the model', prompt: 'Prompt processing', generate: 'Generation', concurrent: 'Concurrent generation', verify: 'Verification by prefill'}
      const result = await runBenchmark({
        modelPath: located.path,
        sha256: located.sha256,
        gpu: this.flags.gpu as GpuChoice,
        threads: this.flags.threads,
        promptTokens: this.flags['prompt-tokens'],
        generateTokens: this.flags.tokens,
        streams: this.flags.streams > 1 ? [this.flags.streams] : [],
        signal: controller.signal,
        onPhase: (phase) => this.note(color.dim(`• ${labels[phase]}…`)),
      })
      const file = await saveBenchmark(this.paths.dataDir, result)
      this.log(
        keyValues([
          ['Model', `${located.model?.name ?? located.path} (${formatCount(result.model.parameters)} params, ${result.model.fileType})`],
          ['sha256', result.sha256],
          ['Backend', `${result.backend}, ${result.threads} threads`],
        ]),
      )
      this.log('')
      this.log(
        table(
          ['MEASURE', 'TOKENS', 'TIME', 'TOKENS/S'],
          [
            ['prompt processing', result.promptProcessing.tokens, `${result.promptProcessing.ms.toFixed(0)} ms`, result.promptProcessing.tokensPerSecond.toFixed(1)],
            ['generation (1 stream)', result.generation.tokens, `${result.generation.ms.toFixed(0)} ms`, result.generation.tokensPerSecond.toFixed(1)],
            ...result.concurrent.map((c) => [`generation (${c.streams} streams)`, c.tokens, `${c.ms.toFixed(0)} ms`, c.tokensPerSecond.toFixed(1)]),
            ['verification', result.verification.tokens, `${result.verification.ms.toFixed(0)} ms`, result.verification.tokensPerSecond.toFixed(1)],
          ],
        ),
      )
      this.log('')
      this.log(
        keyValues([
          ['Verification', `${result.verification.accepted ? color.green('accepted') : color.red('REJECTED')} the honest output; ${(result.verification.relativeToGeneration * 100).toFixed(0)}% of the generation time; largest margin ${result.verification.maxMargin}`],
          ['Peak memory', formatBytes(result.peakRssBytes)],
          ['Saved', file],
        ]),
      )
      return {...result, file}
    } finally {
      process.removeListener('SIGINT', onSigint)
    }
  }
}

/**
 * The ONE way a batch item becomes model input and an output becomes an ItemResult, shared by the executor and the
 * council: a council member re-tokenizes the prompt exactly as the executor did, or its verification is meaningless.
 *
 * - `{prompt}` items: the text tokenized with the model's tokenizer, BOS prepended when the model asks for it.
 * - `{messages}` items: the model's chat template (node-llama-cpp's, a generic one when the model has none), with
 *   the assistant turn opened.
 * - Sampling: greedy unless the spec says `sampled`; then the spec's temperature/topK/topP and the seed
 *   `(spec seed + item index) mod 2^32`, so items do not share one random stream.
 * - The completion text is the completion tokens decoded with the prompt as context (end-of-generation not rendered).
 */
import type {InferenceEngine, SamplingOptions} from '../gpu/index.js'
import type {ItemResult} from '../protocol/results.js'
import {itemHash, type TaskItem} from '../protocol/task-data.js'
import type {TaskSpec} from '../protocol/task-spec.js'

export function buildPrompt(engine: InferenceEngine, item: TaskItem): number[] {
  if (item.messages) return engine.renderChat(item.messages)
  return engine.tokenize(item.prompt ?? '')
}

export function samplingFor(spec: TaskSpec, index: number): SamplingOptions {
  const sampling = spec.instructions.sampling
  if (sampling.mode === 'greedy') return {temperature: 0}
  return {
    temperature: sampling.temperature,
    ...(sampling.topK === undefined ? {} : {topK: sampling.topK}),
    ...(sampling.topP === undefined ? {} : {topP: sampling.topP}),
    seed: (sampling.seed + index) >>> 0,
  }
}

export function completionText(engine: InferenceEngine, prompt: readonly number[], tokens: readonly number[]): string {
  return engine.detokenize(tokens, prompt)
}

/** Runs one item through the engine. */
export async function runItem(
  engine: InferenceEngine,
  spec: TaskSpec,
  item: TaskItem,
  index: number,
  options: {signal?: AbortSignal; prompt?: number[]} = {},
): Promise<ItemResult> {
  const prompt = options.prompt ?? buildPrompt(engine, item)
  const generated = await engine.generate({prompt, maxTokens: spec.instructions.maxTokens, ...samplingFor(spec, index), signal: options.signal})
  return {
    index,
    id: item.id,
    itemHash: itemHash(item),
    completion: completionText(engine, prompt, generated.tokens),
    tokenIds: generated.tokens,
    promptTokens: prompt.length,
    finishReason: generated.finishReason === 'eos' ? 'stop' : 'length',
  }
}

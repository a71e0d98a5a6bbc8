/** A generation as an async iterator of its tokens (`InferenceEngine.stream`). */
import type {GenerateRequest, GenerateResult, GenerationStream, TokenEvent} from './engine-types.js'

/** Runs `generate` with an onToken that buffers the tokens for the iterator; breaking out of the loop cancels it. */
export function streamGeneration(generate: (request: GenerateRequest) => Promise<GenerateResult>, request: Omit<GenerateRequest, 'onToken'>): GenerationStream {
  const controller = new AbortController()
  const signal = request.signal ? AbortSignal.any([request.signal, controller.signal]) : controller.signal
  const buffer: TokenEvent[] = []
  let wake: (() => void) | undefined
  let done = false
  const result = generate({
    ...request,
    signal,
    onToken: (event) => {
      buffer.push(event)
      wake?.()
    },
  }).finally(() => {
    done = true
    wake?.()
  })
  result.catch(() => {}) // surfaced through the iterator or `result`
  return {
    result,
    cancel: () => controller.abort(),
    async *[Symbol.asyncIterator]() {
      try {
        for (;;) {
          if (buffer.length > 0) {
            yield buffer.shift()!
            continue
          }
          if (done) {
            await result // throws when the generation failed or was cancelled
            return
          }
          await new Promise<void>((resolve) => {
            wake = resolve
          })
          wake = undefined
        }
      } finally {
        if (!done) controller.abort()
      }
    },
  }
}

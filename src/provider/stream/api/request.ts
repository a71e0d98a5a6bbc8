/**
 * Request parsing of the provider's OpenAI API: the body read with its limit, OpenAI bodies validated into what a
 * generation or a verification runs, the prompt tokens and the size checks. Pure functions; every problem is a
 * {@link Refusal} (400 invalid_request / context_length_exceeded / unsupported_*, 413 too_large for the body), thrown
 * before any GPU time.
 */
import type {IncomingMessage} from 'node:http'

import {isOgpuError} from '../../../errors/index.js'
import type {ChatMessage} from '../../../gpu/engine-types.js'
import {HttpStatusError, readBody, toJson} from '../../../http/index.js'
import {unsupportedParameter} from '../../../protocol/openai-params.js'
import {Refusal, type StreamLimits} from '../auth.js'
import type {StreamBackend} from '../backend.js'

export type Route = 'chat' | 'completions'

/** A validated OpenAI request. */
export interface ParsedRequest {
  route: Route
  stream: boolean
  includeUsage: boolean
  messages?: ChatMessage[]
  prompt?: string | number[]
  /** The request's total completion tokens, resumed ones included. */
  maxTokens: number
  resumeTokens: number[]
  model?: string
}

/** max_tokens when a request gives none. */
export const MAX_DEFAULT_TOKENS = 256

export const invalid = (message: string, param?: string) => new Refusal('invalid_request', message, param)

/** Reads the body, refusing (413 too_large) past `limit` bytes without buffering more. */
export async function readRequestBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  try {
    return await readBody(req, {limit})
  } catch (error) {
    if (error instanceof HttpStatusError && error.status === 413) throw new Refusal('too_large', error.message)
    throw error
  }
}

/** The body as a JSON object (400 invalid_request otherwise). */
export function parseJson(body: Buffer): Record<string, unknown> {
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    throw invalid('The body is not JSON.')
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw invalid('The body must be a JSON object.')
  return value as Record<string, unknown>
}

function contentText(content: unknown, i: number): string {
  if (typeof content === 'string') return content
  if (Array.isArray(content)) {
    return content
      .map((part, j) => {
        const p = part as {type?: string; text?: unknown}
        if (p?.type !== 'text' || typeof p.text !== 'string') throw invalid(`messages[${i}].content[${j}] must be a text part ({"type": "text", "text": "..."}).`, 'messages')
        return p.text
      })
      .join('')
  }
  throw invalid(`messages[${i}].content must be a string.`, 'messages')
}

/** The max_tokens a body asks for (max_completion_tokens too), or undefined; for the size check before parsing fully. */
export function requestedMaxTokens(body: Record<string, unknown>): unknown {
  return body.max_completion_tokens ?? body.max_tokens
}

/**
 * The size check that comes before the signature (docs/protocol.md): a max_tokens over the limit in a body that
 * parses is refused (400 context_length_exceeded) before anything else is read. A body that does not parse is left to the full parse.
 */
export function checkRequestedSize(raw: Buffer, limits: StreamLimits): void {
  let body: unknown
  try {
    body = JSON.parse(raw.toString('utf8'))
  } catch {
    return
  }
  const rawMax = body && typeof body === 'object' ? requestedMaxTokens(body as Record<string, unknown>) : undefined
  if (typeof rawMax === 'number' && rawMax > limits.maxTokens)
    throw new Refusal('context_length_exceeded', `max_tokens ${rawMax} is over this provider's limit of ${limits.maxTokens}.`, 'max_tokens')
}

/** Parses and validates an OpenAI request body (what a generation or a verification runs). */
export function parseOpenAiRequest(route: Route, body: Record<string, unknown>, limits: StreamLimits): ParsedRequest {
  const unsupported = unsupportedParameter(body)
  if (unsupported) throw new Refusal(unsupported.code, unsupported.message, unsupported.param)
  const temperature = body.temperature
  if (temperature !== undefined && temperature !== null && temperature !== 0)
    throw invalid(`temperature must be 0 or absent: stream responses are greedy so that the council can verify them by prefill (got ${toJson(temperature)}).`, 'temperature')
  if (body.n !== undefined && body.n !== null && body.n !== 1) throw invalid('n must be 1.', 'n')
  const stop = body.stop
  if (stop !== undefined && stop !== null && !(Array.isArray(stop) && stop.length === 0))
    throw invalid('stop sequences are not supported (the response must be the model\'s whole greedy output up to its end or max_tokens).', 'stop')
  if (body.stream !== undefined && typeof body.stream !== 'boolean') throw invalid('stream must be a boolean.', 'stream')
  const rawMax = requestedMaxTokens(body)
  let maxTokens = MAX_DEFAULT_TOKENS
  if (rawMax !== undefined && rawMax !== null) {
    if (!Number.isInteger(rawMax) || (rawMax as number) < 1) throw invalid(`max_tokens must be a positive integer (got ${toJson(rawMax)}).`, 'max_tokens')
    maxTokens = rawMax as number
  }
  if (maxTokens > limits.maxTokens) throw new Refusal('context_length_exceeded', `max_tokens ${maxTokens} is over this provider's limit of ${limits.maxTokens}.`, 'max_tokens')
  const ogpu = body.ogpu as {resumeTokens?: unknown} | undefined
  let resumeTokens: number[] = []
  if (ogpu !== undefined && ogpu !== null) {
    if (typeof ogpu !== 'object') throw invalid('ogpu must be an object.', 'ogpu')
    if (ogpu.resumeTokens !== undefined) {
      if (!Array.isArray(ogpu.resumeTokens) || !ogpu.resumeTokens.every((t) => Number.isInteger(t) && t >= 0)) throw invalid('ogpu.resumeTokens must be an array of token ids.', 'ogpu.resumeTokens')
      resumeTokens = ogpu.resumeTokens as number[]
    }
  }
  if (resumeTokens.length >= maxTokens) throw invalid(`ogpu.resumeTokens holds ${resumeTokens.length} tokens; max_tokens (${maxTokens}, the total) leaves none to generate.`, 'ogpu.resumeTokens')
  const streamOptions = body.stream_options as {include_usage?: unknown} | undefined
  const common = {stream: body.stream === true, includeUsage: streamOptions?.include_usage === true, maxTokens, resumeTokens, model: typeof body.model === 'string' ? body.model : undefined}
  if (route === 'chat') {
    if (!Array.isArray(body.messages) || body.messages.length === 0) throw invalid('messages must be a non-empty array.', 'messages')
    const messages = body.messages.map((m, i): ChatMessage => {
      const role = (m as {role?: unknown})?.role
      if (role !== 'system' && role !== 'user' && role !== 'assistant' && role !== 'developer')
        throw invalid(`messages[${i}].role must be system, user or assistant (got ${toJson(role)}).`, 'messages')
      return {role: role === 'developer' ? 'system' : role, content: contentText((m as {content?: unknown}).content, i)}
    })
    return {route, messages, ...common}
  }
  const prompt = body.prompt
  if (typeof prompt === 'string') {
    if (prompt.length === 0) throw invalid('prompt is empty.', 'prompt')
    return {route, prompt, ...common}
  }
  if (Array.isArray(prompt) && prompt.length > 0 && prompt.every((t) => Number.isInteger(t))) return {route, prompt: prompt as number[], ...common}
  throw invalid('prompt must be a string or an array of token ids.', 'prompt')
}

/** The prompt tokens a request runs with: the rendered chat or prompt, then the resumed tokens. */
export function promptTokensOf(backend: StreamBackend, request: ParsedRequest): number[] {
  try {
    const base = request.route === 'chat' ? backend.tokenizer.renderChat(request.messages!) : backend.tokenizer.preparePrompt(request.prompt!)
    if (request.resumeTokens.length > 0) backend.tokenizer.assertTokenIds(request.resumeTokens, 'ogpu.resumeTokens')
    return [...base, ...request.resumeTokens]
  } catch (error) {
    if (error instanceof Refusal) throw error
    throw invalid(isOgpuError(error) ? error.message : `The prompt cannot be prepared: ${(error as Error).message}`, request.route === 'chat' ? 'messages' : 'prompt')
  }
}

/** 400 context_length_exceeded: the prompt over the provider's limit, or prompt plus completion over the backend's context. */
export function checkPromptSize(limits: StreamLimits, backend: StreamBackend, promptLength: number, completion: number): void {
  if (promptLength > limits.maxPromptTokens) throw new Refusal('context_length_exceeded', `The prompt is ${promptLength} tokens; this provider takes at most ${limits.maxPromptTokens}.`, 'messages')
  if (promptLength + completion > backend.contextSize)
    throw new Refusal('context_length_exceeded', `The prompt (${promptLength} tokens) plus ${completion} completion tokens exceed the context of ${backend.contextSize} tokens.`, 'max_tokens')
}

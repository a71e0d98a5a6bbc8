/** What the gateway checks of a caller's request, and the errors it answers the caller with. */
import {HttpStatusError, httpStatusOf} from '../http/index.js'
import {unsupportedParameter} from '../protocol/openai-params.js'
import type {Route} from './provider-client.js'

/** An error with the HTTP status the gateway answers its caller (OpenAI's error JSON with `code`). */
export function gatewayError(status: number, code: string, message: string, hint?: string): HttpStatusError {
  return new HttpStatusError(status, code, message, {hint, details: {status}})
}

/** The HTTP status of an error from the gateway (500 when it carries none). */
export const statusOf = (error: unknown): number => httpStatusOf(error)

/** Parses and checks what a caller sent (the provider checks the rest and its 400 goes back to the caller). */
export function parseCallerBody(route: Route, raw: string | Record<string, unknown>): Record<string, unknown> {
  let body: unknown = raw
  if (typeof raw === 'string') {
    try {
      body = JSON.parse(raw)
    } catch (error) {
      throw gatewayError(400, 'invalid_request', `The request body is not JSON (${(error as Error).message}).`)
    }
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw gatewayError(400, 'invalid_request', 'The request body must be a JSON object.')
  const b = body as Record<string, unknown>
  if (route === 'chat' && (!Array.isArray(b.messages) || b.messages.length === 0)) throw gatewayError(400, 'invalid_request', 'messages must be a non-empty array.')
  if (route === 'completions' && typeof b.prompt !== 'string' && !Array.isArray(b.prompt)) throw gatewayError(400, 'invalid_request', 'prompt must be a string or an array of token ids.')
  if (b.stream !== undefined && typeof b.stream !== 'boolean') throw gatewayError(400, 'invalid_request', 'stream must be a boolean.')
  if (b.ogpu !== undefined) throw gatewayError(400, 'invalid_request', 'ogpu is reserved for the gateway.')
  const unsupported = unsupportedParameter(b)
  if (unsupported) throw new HttpStatusError(400, unsupported.code, unsupported.message, {param: unsupported.param, details: {status: 400}})
  return b
}

/** The completion budget a body asks for (max_completion_tokens or max_tokens); unbounded when it names none. */
export function maxTokensOf(body: Record<string, unknown>): number {
  const value = body.max_completion_tokens ?? body.max_tokens
  return typeof value === 'number' ? value : Number.POSITIVE_INFINITY
}

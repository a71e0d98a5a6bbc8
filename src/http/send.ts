/** Writing whole responses: JSON (bigints as decimal strings) and plain text, never cached. */
import type {ServerResponse} from 'node:http'

import {openAiError, type OpenAiErrorOptions} from './openai-error.js'

/** JSON with bigints as decimal strings. */
export const toJson = (value: unknown): string => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v))

/** Answers `body` as JSON with `status`; `headers` are added to (or override) content-type, content-length and cache-control. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendText(res, status, toJson(body), 'application/json', headers)
}

/** Answers `text` with `status` and `contentType`; `headers` as for {@link sendJson}. */
export function sendText(res: ServerResponse, status: number, text: string, contentType: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {'content-type': contentType, 'content-length': String(Buffer.byteLength(text)), 'cache-control': 'no-store', ...headers})
  res.end(text)
}

/** Answers OpenAI's error body ({@link openAiError}) with `status`; `options.headers` as for {@link sendJson}. Returns `status`. */
export function sendError(res: ServerResponse, status: number, code: string, message: string, options: Omit<OpenAiErrorOptions, 'status'> & {headers?: Record<string, string>} = {}): number {
  const {headers, ...shape} = options
  sendJson(res, status, openAiError(code, message, {status, ...shape}), headers)
  return status
}

/** Reading a request body with a size limit, on `raw-body`. */
import type {IncomingMessage} from 'node:http'

import getRawBody from 'raw-body'

import {HttpStatusError} from './errors.js'

export interface ReadBodyOptions {
  /** Largest body accepted, bytes: a larger one (declared or sent) is a 413 `too_large`. */
  limit: number
}

type RawBodyError = Error & {type?: string; expected?: number}

/**
 * The whole body of a request. Throws an {@link HttpStatusError}: 413 `too_large` past `limit` (at once when the
 * declared content-length is over it, else as soon as the bytes received are, without buffering more), 400 `aborted`
 * when the caller broke off, 400 `invalid_request` when fewer or more bytes arrive than content-length declares. On a
 * refusal the rest of the body is drained, so that the error response reaches the caller.
 */
export async function readBody(req: IncomingMessage, options: ReadBodyOptions): Promise<Buffer> {
  try {
    return await getRawBody(req, {limit: options.limit, length: req.headers['content-length']})
  } catch (error) {
    const e = error as RawBodyError
    if (e.type === 'request.aborted') throw new HttpStatusError(400, 'aborted', 'The caller aborted the request.', {cause: error})
    if (!req.destroyed) req.resume()
    if (e.type === 'entity.too.large') {
      const size = e.expected === undefined ? 'is over' : `is ${e.expected} bytes, over`
      throw new HttpStatusError(413, 'too_large', `The request body ${size} the limit of ${options.limit} bytes.`, {cause: error})
    }
    if (e.type === 'request.size.invalid') throw new HttpStatusError(400, 'invalid_request', 'The request body does not have the length its content-length header declares.', {cause: error})
    throw error
  }
}

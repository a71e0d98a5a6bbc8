import type {IncomingMessage, ServerResponse} from 'node:http'

import type {TypedDataDomain} from 'ethers'

import {OGPU_ERROR_TYPE, sendError, sendJson} from '../http/index.js'
import {recoverItemsRequest} from '../protocol/eip712.js'
import {MAX_ITEMS_PER_REQUEST, MAX_ITEMS_REQUEST_TTL, type ServedItem} from '../protocol/items.js'

export type {ServedItem} from '../protocol/items.js'

/** Where the executor keeps its outputs; the daemon backs it with its durable state. */
export interface ItemSource {
  /** Items [first, first+count) of a task, or undefined for an unknown task. Items not produced yet are left out. */
  items(taskId: number, first: number, count: number): Promise<ServedItem[] | undefined>
  /** May this address read the task's items? (The task's client and its council.) */
  mayRead(taskId: number, address: string): Promise<boolean>
  /** Whether items are served right now; false answers every items request 503 UNAVAILABLE. Absent: always served. */
  serving?(): boolean
}

const fail = (res: ServerResponse, status: number, code: string, message: string) => sendError(res, status, code, message, {type: OGPU_ERROR_TYPE})

/**
 * `GET /tasks/{id}/items/{i}` and `GET /tasks/{id}/items?first=F&count=N`: batch items with their results and
 * proofs, only for requests signed (EIP-712 ItemsRequest, headers x-ogpu-signature and x-ogpu-expiry) by the task's
 * client or a council member. Returns true when it handled the request.
 */
/** `address`: this executor's (requests must be signed for it). */
export function createItemsHandler(options: {domain: TypedDataDomain; address: string; source: ItemSource; now?: () => number}) {
  const now = options.now ?? (() => Math.floor(Date.now() / 1000))
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://localhost')
    const match = /^\/tasks\/(\d+)\/items(?:\/(\d+))?\/?$/.exec(url.pathname)
    if (!match) return false
    if (options.source.serving?.() === false) {
      fail(res, 503, 'UNAVAILABLE', 'Items are not served right now.')
      return true
    }
    if (req.method !== 'GET') {
      fail(res, 405, 'METHOD_NOT_ALLOWED', 'Use GET.')
      return true
    }
    const taskId = Number(match[1])
    const first = match[2] === undefined ? Number(url.searchParams.get('first') ?? 0) : Number(match[2])
    const count = match[2] === undefined ? Number(url.searchParams.get('count') ?? MAX_ITEMS_PER_REQUEST) : 1
    if (!Number.isSafeInteger(first) || first < 0 || !Number.isSafeInteger(count) || count < 1 || count > MAX_ITEMS_PER_REQUEST) {
      fail(res, 400, 'BAD_RANGE', `first must be ≥ 0 and count 1..${MAX_ITEMS_PER_REQUEST}.`)
      return true
    }
    const signature = req.headers['x-ogpu-signature']
    const expiry = Number(req.headers['x-ogpu-expiry'])
    if (typeof signature !== 'string' || !Number.isSafeInteger(expiry)) {
      fail(res, 401, 'UNSIGNED', 'Sign the request (EIP-712 ItemsRequest) and send x-ogpu-signature and x-ogpu-expiry.')
      return true
    }
    if (expiry < now()) {
      fail(res, 401, 'EXPIRED', `The request expired at ${expiry}.`)
      return true
    }
    if (expiry > now() + MAX_ITEMS_REQUEST_TTL) {
      fail(res, 401, 'EXPIRED', `The request's expiry ${expiry} is more than ${MAX_ITEMS_REQUEST_TTL} s ahead: sign requests that expire sooner.`)
      return true
    }
    let signer: string
    try {
      signer = recoverItemsRequest(options.domain, {taskId, executor: options.address, first, count, expiry}, signature)
    } catch {
      fail(res, 401, 'BAD_SIGNATURE', 'The signature does not verify.')
      return true
    }
    if (!(await options.source.mayRead(taskId, signer))) {
      fail(res, 403, 'FORBIDDEN', `${signer} is neither the client nor on the council of task ${taskId} (or the request was signed for another executor).`)
      return true
    }
    const items = await options.source.items(taskId, first, count)
    if (!items) {
      fail(res, 404, 'UNKNOWN_TASK', `This provider has no items of task ${taskId}.`)
      return true
    }
    sendJson(res, 200, {taskId, items})
    return true
  }
}

/** The executor's items API on the wire: what one served batch item carries, and the page limit. */
import type {ItemResult} from './results.js'
import type {TaskItem} from './task-data.js'

/** One batch item as the executor serves it, with the proofs that tie it to the chain. */
export interface ServedItem {
  index: number
  /** The checkpoint whose result root covers this item. */
  k: number
  item: TaskItem
  /** Proof of the item against the task's data root. */
  itemProof: string[]
  result: ItemResult
  /** Proof of the result against checkpoint k's result root. */
  resultProof: string[]
}

/** Longest an items request may be valid for, seconds: the executor refuses an expiry further ahead. */
export const MAX_ITEMS_REQUEST_TTL = 3600

/** The most items one request may ask for. */
export const MAX_ITEMS_PER_REQUEST = 100

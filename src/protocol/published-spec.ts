/**
 * What a reader takes from a published spec document (a task's or a stream's terms, at its specUri): the model's
 * name and maxTokens, once the document is checked against the specHash on chain. Used by the dashboard and the
 * gateway (its model ids).
 */
import {keccak256, toUtf8Bytes} from 'ethers'

import {canonicalJson} from './canonical.js'

export type SpecInfo = {state: 'pending'} | {state: 'ok'; modelName: string | null; maxTokens: number | null} | {state: 'unreadable'; error: string}

/** Reads the model name and maxTokens from a published spec document; undefined fields when absent. */
export function specInfoOf(text: string, specHash: string): SpecInfo {
  let document: {model?: {name?: unknown}; instructions?: {maxTokens?: unknown}}
  try {
    document = JSON.parse(text) as typeof document
  } catch {
    return {state: 'unreadable', error: 'not JSON'}
  }
  if (keccak256(toUtf8Bytes(canonicalJson(document))).toLowerCase() !== specHash.toLowerCase()) return {state: 'unreadable', error: 'hash mismatch'}
  const name = document.model?.name
  const maxTokens = document.instructions?.maxTokens
  return {
    state: 'ok',
    modelName: typeof name === 'string' && name ? name : null,
    maxTokens: typeof maxTokens === 'number' && Number.isFinite(maxTokens) && maxTokens > 0 ? maxTokens : null,
  }
}


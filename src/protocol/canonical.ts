import {keccak256, toUtf8Bytes} from 'ethers'

/**
 * Canonical JSON: object keys sorted, no whitespace, no undefined. The same value always gives the same bytes, so its
 * keccak256 can go on chain as the value's identity.
 */
export function canonicalJson(value: unknown): string {
  const canonical = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(canonical)
    if (v && typeof v === 'object')
      return Object.fromEntries(
        Object.keys(v)
          .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
          .sort()
          .map((k) => [k, canonical((v as Record<string, unknown>)[k])]),
      )
    return v
  }
  return JSON.stringify(canonical(value))
}

/** keccak256 of the canonical JSON of a value. */
export function canonicalHash(value: unknown): string {
  return keccak256(toUtf8Bytes(canonicalJson(value)))
}

/**
 * Decodes contract event logs fast enough for a catch-up over 100,000s of events. ethers' `Interface.parseLog`
 * recomputes topic hashes (keccak) for every log, builds fresh ABI coders on every call and checksums every address;
 * at 100,000 logs that is most of a catch-up. Here:
 *  - events whose parameters are all static words (uint, int, address, bool, bytesN: BidPlaced and most market
 *    events) are decoded directly from their 32-byte words, with address checksums cached;
 *  - other events (tuples, strings, arrays) go through ethers, with the topic check and description built once.
 * The result has the same shape as ethers' LogDescription (name, signature, topic, fragment, args as a Result).
 */
import {EventFragment, getAddress, type Interface, type LogDescription, type ParamType, Result} from 'ethers'

export interface DecodableLog {
  topics: readonly string[]
  data: string
}

type WordReader = (word: string) => unknown

interface Decoder {
  fragment: EventFragment
  topic: string
  signature: string
  decode(log: DecodableLog): Result
}

/** A reader for one 32-byte word (64 hex characters) of a static type, or undefined for other types. */
function wordReader(param: ParamType, checksum: (address: string) => string): WordReader | undefined {
  const type = param.type
  if (/^uint\d*$/.test(type)) return (w) => BigInt(`0x${w}`)
  if (/^int\d*$/.test(type)) return (w) => BigInt.asIntN(Number(type.slice(3) || 256), BigInt(`0x${w}`))
  if (type === 'address') return (w) => checksum(`0x${w.slice(24)}`)
  if (type === 'bool') return (w) => BigInt(`0x${w}`) !== 0n
  const bytes = /^bytes(\d+)$/.exec(type)
  if (bytes) return (w) => `0x${w.slice(0, Number(bytes[1]) * 2)}`
  return undefined
}

export class EventDecoder {
  private readonly decoders = new Map<string, Decoder>()
  private readonly checksums = new Map<string, string>()

  constructor(private readonly iface: Interface) {
    const checksum = (address: string) => {
      let known = this.checksums.get(address)
      if (!known) {
        known = getAddress(address)
        if (this.checksums.size < 100_000) this.checksums.set(address, known)
      }
      return known
    }
    iface.forEachEvent((fragment) => {
      if (fragment.anonymous) return
      const topic = fragment.topicHash
      const base = {fragment, topic, signature: fragment.format()}
      const names = fragment.inputs.map((p) => p.name)
      const readers = fragment.inputs.map((p) => wordReader(p, checksum))
      if (readers.every(Boolean)) {
        // Static words: indexed ones in topics[1..], the others in data, in declaration order.
        this.decoders.set(topic.toLowerCase(), {
          ...base,
          decode: (log) => {
            let t = 1
            let d = 2 // after "0x"
            const values = fragment.inputs.map((param, i) => {
              const word = param.indexed ? (log.topics[t++] ?? '').slice(2) : log.data.slice(d, (d += 64))
              if (word.length !== 64) throw new Error(`${fragment.name}: log too short for ${param.name}`)
              return readers[i]!(word)
            })
            return Result.fromItems(values, names)
          },
        })
      } else {
        // An anonymous twin decodes from the topics after the first without re-hashing the signature.
        const twin = EventFragment.from({...(JSON.parse(fragment.format('json')) as object), anonymous: true})
        this.decoders.set(topic.toLowerCase(), {...base, decode: (log) => this.iface.decodeEventLog(twin, log.data, log.topics.slice(1))})
      }
    })
  }

  /** The log's description, or null when its first topic is none of the interface's events. */
  parse(log: DecodableLog): LogDescription | null {
    const decoder = log.topics[0] === undefined ? undefined : this.decoders.get(log.topics[0].toLowerCase())
    if (!decoder) return null
    // The same fields as ethers' LogDescription, without its per-instance property checks.
    return {fragment: decoder.fragment, name: decoder.fragment.name, signature: decoder.signature, topic: decoder.topic, args: decoder.decode(log)} as LogDescription
  }
}

/**
 * The gateway's voucher book: for one stream, what the client owes each provider so far (the cumulative amount of
 * the next voucher), kept durably in a JSON file of the data dir.
 *
 * A voucher is cumulative, so the book must never go backwards: a gateway that restarted and signed a smaller amount
 * than before would sign a voucher the provider cannot use (redeem needs an increasing amount) and would have
 * forgotten what it owes. The rule: the new amount is written (temp file, fsync, rename, fsync of the directory)
 * BEFORE the voucher is signed, so whatever was ever signed is in the file. A response's payments to its generator
 * and verifiers go in one such write (`creditMany`). The signature and the acknowledged amount are not worth a write
 * of their own (each write blocks the gateway's event loop for two fsyncs, stalling every stream it serves): they
 * ride along with the next credit or the close, and when a crash loses them the voucher is signed again (the same
 * signature: ECDSA signing is deterministic) and sent again (a provider answers a voucher it already stored). At open, the book also takes the on-chain
 * `redeemed` of each provider as a floor (a book that was lost or copied from elsewhere never signs below what was
 * already paid out).
 */
import {closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import {getAddress} from 'ethers'

import {UserError} from '../errors/index.js'
import {writeFileDurable} from '../storage/index.js'

export interface VoucherEntry {
  provider: string
  /** Total owed, wei: the amount of the newest voucher. */
  cumulative: bigint
  /** The signature of the newest voucher, once signed (null while the new amount awaits its signature). */
  signature: string | null
  /** The newest amount the provider acknowledged receiving (POST /v1/ogpu/vouchers answered 2xx). */
  delivered: bigint
}

interface BookFile {
  version: 1
  chainId: number
  market: string
  streamId: string
  client: string
  providers: Record<string, {cumulative: string; signature: string | null; delivered: string}>
}

export interface VoucherBookOptions {
  /** Directory of the book files (created when missing). */
  dir: string
  chainId: number
  /** The StreamMarket's address. */
  market: string
  streamId: bigint
  /** The stream's client (the signer of the vouchers). */
  client: string
}

/** The file a stream's book lives in. */
export function voucherBookFile(options: Omit<VoucherBookOptions, 'client' | 'dir'>): string {
  return `vouchers-${options.chainId}-${getAddress(options.market).toLowerCase()}-${options.streamId}.json`
}

/** Books open in this process, by path: gateways of the same stream in one process share one book. */
const openBooks = new Map<string, {book: VoucherBook; users: number}>()

/** Whether a process with this pid runs (signal 0 checks without sending anything). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Takes the book's lock file (its pid inside): two processes signing vouchers from copies of the same book would sign
 * the same cumulative amounts for different work. A lock whose process is gone is taken over.
 */
function lock(path: string): void {
  const lockPath = `${path}.lock`
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(lockPath, 'wx')
      writeSync(fd, String(process.pid))
      closeSync(fd)
      return
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const pid = Number.parseInt(readFileSync(lockPath, 'utf8'), 10)
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid))
        throw new UserError(`Another ogpu process (pid ${pid}) is the gateway of this stream: it holds ${lockPath}.`, {
          code: 'GATEWAY_RUNNING',
          hint: 'Send requests to that gateway (ogpu client gateway prints its URL), or stop it first. Two gateways of one stream would sign conflicting vouchers.',
        })
      rmSync(lockPath, {force: true}) // stale: its process is gone
    }
  }
  throw new UserError(`Could not take the voucher book lock ${lockPath}.`, {code: 'GATEWAY_RUNNING', hint: 'Remove the file if no gateway of this stream runs.'})
}

export class VoucherBook {
  private readonly entries = new Map<string, VoucherEntry>()
  private readonly file: string
  /** Signatures or acknowledgements not written yet. */
  private dirty = false

  private constructor(private readonly options: VoucherBookOptions) {
    this.file = voucherBookFile(options)
  }

  /**
   * Opens the stream's book (an empty one when there is no file yet) and locks it for this process until `close()`.
   * A file of another client is refused, and so is a book another live process holds. Opening it again in the same
   * process returns the same book (one ledger for every gateway of the stream here).
   */
  static open(options: VoucherBookOptions): VoucherBook {
    const path = join(options.dir, voucherBookFile(options))
    const shared = openBooks.get(path)
    if (shared) {
      if (getAddress(shared.book.options.client) !== getAddress(options.client))
        throw new UserError(`The voucher book ${path} is open for client ${shared.book.options.client}, not ${options.client}.`, {code: 'VOUCHER_BOOK_MISMATCH'})
      shared.users++
      return shared.book
    }
    const book = new VoucherBook(options)
    mkdirSync(options.dir, {recursive: true})
    lock(path)
    try {
      book.load(path)
    } catch (error) {
      rmSync(`${path}.lock`, {force: true})
      throw error
    }
    openBooks.set(path, {book, users: 1})
    return book
  }

  /** Writes what is not written yet (signatures, acknowledgements); releases this user of the book; the last one releases the lock file. */
  close(): void {
    const shared = openBooks.get(this.path)
    if (!shared || shared.book !== this) return
    if (this.dirty) this.save()
    if (--shared.users > 0) return
    openBooks.delete(this.path)
    rmSync(`${this.path}.lock`, {force: true})
  }

  private load(path: string): void {
    const options = this.options
    const book = this
    if (existsSync(path)) {
      let parsed: BookFile
      try {
        parsed = JSON.parse(readFileSync(path, 'utf8')) as BookFile
      } catch (error) {
        throw new UserError(`The voucher book ${path} is not valid JSON (${(error as Error).message}).`, {
          code: 'VOUCHER_BOOK_CORRUPT',
          hint: 'Restore it from a backup. Deleting it is safe only if every voucher was redeemed: the book then restarts from the on-chain redeemed amounts.',
        })
      }
      if (parsed.version !== 1 || getAddress(parsed.client) !== getAddress(options.client))
        throw new UserError(`The voucher book ${path} belongs to client ${parsed.client}, not ${options.client}.`, {
          code: 'VOUCHER_BOOK_MISMATCH',
          hint: 'Run the gateway with the stream client\'s wallet (--wallet).',
        })
      for (const [provider, entry] of Object.entries(parsed.providers))
        book.entries.set(getAddress(provider), {provider: getAddress(provider), cumulative: BigInt(entry.cumulative), signature: entry.signature, delivered: BigInt(entry.delivered)})
    }
  }

  get path(): string {
    return join(this.options.dir, this.file)
  }

  /** The provider's entry (zeros when it was never paid). */
  get(provider: string): VoucherEntry {
    const address = getAddress(provider)
    return this.entries.get(address) ?? {provider: address, cumulative: 0n, signature: null, delivered: 0n}
  }

  all(): VoucherEntry[] {
    return [...this.entries.values()]
  }

  /** Total owed to every provider, wei. */
  get total(): bigint {
    let sum = 0n
    for (const entry of this.entries.values()) sum += entry.cumulative
    return sum
  }

  /** Raises a provider's amount to at least `floor` (its on-chain redeemed total), durably. Returns whether it moved. */
  raiseTo(provider: string, floor: bigint): boolean {
    const entry = this.get(provider)
    if (floor <= entry.cumulative) return false
    this.entries.set(entry.provider, {...entry, cumulative: floor, signature: null, delivered: entry.delivered})
    this.save()
    return true
  }

  /**
   * Adds `amount` to what the provider is owed and returns the new cumulative amount, already durable. Synchronous,
   * so concurrent responses each get their own, increasing amount.
   */
  credit(provider: string, amount: bigint): bigint {
    return this.creditMany([[provider, amount]])[0]!
  }

  /** Credits several providers with one durable write; returns their new cumulative amounts, in order. */
  creditMany(amounts: ReadonlyArray<readonly [string, bigint]>): bigint[] {
    for (const [, amount] of amounts) if (amount < 0n) throw new RangeError(`A voucher credit cannot be negative (got ${amount}).`)
    const out = amounts.map(([provider, amount]) => {
      const entry = this.get(provider)
      const cumulative = entry.cumulative + amount
      if (amount > 0n) this.entries.set(entry.provider, {...entry, cumulative, signature: null})
      return cumulative
    })
    if (amounts.some(([, amount]) => amount > 0n)) this.save()
    return out
  }

  /**
   * Records the signature of the voucher for `cumulative` (ignored when a newer amount was credited meanwhile).
   * Written with the next credit or at close.
   */
  signed(provider: string, cumulative: bigint, signature: string): void {
    const entry = this.get(provider)
    if (entry.cumulative !== cumulative) return
    this.entries.set(entry.provider, {...entry, signature})
    this.dirty = true
  }

  /** Records that the provider acknowledged the voucher for `cumulative`. Written with the next credit or at close. */
  delivered(provider: string, cumulative: bigint): void {
    const entry = this.get(provider)
    if (cumulative <= entry.delivered) return
    this.entries.set(entry.provider, {...entry, delivered: cumulative})
    this.dirty = true
  }

  private save(): void {
    this.dirty = false
    const file: BookFile = {
      version: 1,
      chainId: this.options.chainId,
      market: getAddress(this.options.market),
      streamId: this.options.streamId.toString(),
      client: getAddress(this.options.client),
      providers: Object.fromEntries(
        [...this.entries.values()].map((e) => [e.provider, {cumulative: e.cumulative.toString(), signature: e.signature, delivered: e.delivered.toString()}]),
      ),
    }
    writeFileDurable(this.options.dir, this.file, `${JSON.stringify(file, null, 2)}\n`)
  }
}

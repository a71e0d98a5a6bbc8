/**
 * A small journaled store: the provider daemon's durable memory (bids, results, salts, ...).
 *
 * Layout of its directory:
 *
 *     journal.jsonl   append-only, one record per line: {"seq": N, ...record}\n, fsynced before append() returns
 *     snapshot.json   {"version", "seq", "state"}: the state after every record up to seq (written atomically)
 *
 * The state is a plain JSON value, changed only by applying records in order (`apply`). Opening the store loads the
 * snapshot and replays the journal records after its seq. A crash can only tear the LAST line (records are appended
 * in one write and fsynced one by one); a torn tail — a line without its newline, or unparsable lines at the end —
 * was never acknowledged, so it is dropped and cut off the file. An unparsable line followed by good ones is real
 * corruption and refuses to open.
 *
 * Compaction writes the snapshot (temp file, fsync, rename, fsync of the directory), then replaces the journal with
 * an empty one the same way. A crash between the two leaves records the snapshot already holds; their seq is ≤ the
 * snapshot's, so they are skipped on replay.
 */
import {closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync} from 'node:fs'
import {join} from 'node:path'

import {ExternalError} from '../errors/index.js'
import {removeLeftoverTemps, writeFileDurable} from '../storage/index.js'

export interface JournalStoreOptions<S, R> {
  /** Directory of the store (created, mode 0700). */
  dir: string
  /** The empty state. */
  initial: () => S
  /** Applies one record to the state, in place. Must be deterministic: replay runs it again after a restart. */
  apply: (state: S, record: R) => void
  /** Compact automatically once the journal holds this many records. Defaults to 2000. */
  compactEvery?: number
  /** Format version of the state; a snapshot of another version refuses to open. Defaults to 1. */
  version?: number
}

export interface RecoveryReport {
  /** seq of the snapshot loaded (0 without one). */
  snapshotSeq: number
  /** Journal records replayed on top of it. */
  replayed: number
  /** Bytes of a torn tail that were dropped. */
  droppedBytes: number
}

const JOURNAL = 'journal.jsonl'
const SNAPSHOT = 'snapshot.json'

export class JournalStore<S, R extends object> {
  readonly state: S
  readonly recovery: RecoveryReport
  private fd: number
  private seqValue: number
  private sinceCompaction: number
  private pending: R[] = []
  private flushScheduled = false
  private closed = false

  private constructor(
    private readonly options: JournalStoreOptions<S, R>,
    loaded: {state: S; seq: number; journalRecords: number; recovery: RecoveryReport},
  ) {
    this.state = loaded.state
    this.seqValue = loaded.seq
    this.sinceCompaction = loaded.journalRecords
    this.recovery = loaded.recovery
    this.fd = openSync(join(options.dir, JOURNAL), 'a', 0o600)
  }

  /** Opens (or creates) the store and recovers its state. */
  static open<S, R extends object>(options: JournalStoreOptions<S, R>): JournalStore<S, R> {
    mkdirSync(options.dir, {recursive: true, mode: 0o700})
    for (const name of [JOURNAL, SNAPSHOT]) removeLeftoverTemps(options.dir, name)
    const loaded = JournalStore.load(options, true)
    return new JournalStore(options, loaded)
  }

  /**
   * Reads the state without changing anything on disk (another process may own the store): a torn tail is ignored
   * but not cut off. Undefined when there is no store.
   */
  static read<S, R extends object>(options: JournalStoreOptions<S, R>): S | undefined {
    if (!existsSync(options.dir)) return undefined
    return JournalStore.load(options, false).state
  }

  private static load<S, R extends object>(options: JournalStoreOptions<S, R>, repair: boolean): {state: S; seq: number; journalRecords: number; recovery: RecoveryReport} {
    const {dir} = options
    const version = options.version ?? 1

    let state = options.initial()
    let seq = 0
    const snapshotPath = join(dir, SNAPSHOT)
    if (existsSync(snapshotPath)) {
      let snapshot: {version: number; seq: number; state: S}
      try {
        snapshot = JSON.parse(readFileSync(snapshotPath, 'utf8')) as typeof snapshot
      } catch (error) {
        throw new ExternalError(`The provider state snapshot ${snapshotPath} is unreadable: ${(error as Error).message}.`, {
          code: 'STATE_CORRUPT',
          hint: 'It is written atomically, so this is disk corruption. Restore it from a backup; do not delete it while tasks run (it holds unrevealed salts).',
        })
      }
      if (snapshot.version !== version)
        throw new ExternalError(`The provider state in ${dir} has format version ${snapshot.version}; this ogpu reads version ${version}.`, {code: 'STATE_VERSION'})
      state = snapshot.state
      seq = snapshot.seq
    }
    const snapshotSeq = seq

    const journalPath = join(dir, JOURNAL)
    let replayed = 0
    let journalRecords = 0
    let droppedBytes = 0
    if (existsSync(journalPath)) {
      const buffer = readFileSync(journalPath)
      let offset = 0
      let goodEnd = 0
      let lineNo = 0
      let tornAt: number | undefined
      while (offset < buffer.length) {
        const newline = buffer.indexOf(0x0a, offset)
        lineNo++
        if (newline < 0) {
          tornAt ??= lineNo // no newline: the last write did not complete
          break
        }
        const text = buffer.subarray(offset, newline).toString('utf8')
        offset = newline + 1
        let parsed: ({seq: number} & R) | undefined
        try {
          parsed = JSON.parse(text) as {seq: number} & R
          if (!parsed || typeof parsed !== 'object' || !Number.isSafeInteger(parsed.seq)) parsed = undefined
        } catch {
          parsed = undefined
        }
        if (!parsed) {
          tornAt ??= lineNo
          continue
        }
        if (tornAt !== undefined)
          throw new ExternalError(`The provider journal ${journalPath} is corrupt at line ${tornAt} (good records follow it).`, {
            code: 'STATE_CORRUPT',
            hint: 'This is not a torn last write but damage in the middle of the file. Restore it from a backup.',
          })
        goodEnd = offset
        journalRecords++
        if (parsed.seq <= seq) continue // already in the snapshot (a crash during compaction)
        const {seq: recordSeq, ...record} = parsed
        options.apply(state, record as unknown as R)
        seq = recordSeq
        replayed++
      }
      droppedBytes = buffer.length - goodEnd
      if (droppedBytes > 0 && repair) {
        const fd = openSync(journalPath, 'r+')
        try {
          ftruncateSync(fd, goodEnd)
          fsyncSync(fd)
        } finally {
          closeSync(fd)
        }
      }
    } else if (repair) {
      writeFileDurable(dir, JOURNAL, '')
    }
    return {state, seq, journalRecords, recovery: {snapshotSeq, replayed, droppedBytes}}
  }

  /** seq of the last record applied. */
  get seq(): number {
    return this.seqValue
  }

  /** Appends a record durably (written and fsynced when this returns), then applies it. Earlier `appendSoon` records go first. */
  append(record: R): void {
    this.pending.push(record)
    this.flush()
  }

  /** Appends several records with one fsync. */
  appendMany(records: readonly R[]): void {
    this.pending.push(...records)
    this.flush()
  }

  /**
   * Queues a record to be appended with the next flush (at the latest on the next turn of the event loop): group
   * commit for records whose loss is harmless (work that a restart redoes). It is applied when written.
   */
  appendSoon(record: R): void {
    this.pending.push(record)
    if (this.flushScheduled) return
    this.flushScheduled = true
    setImmediate(() => {
      this.flushScheduled = false
      if (!this.closed) this.flush()
    })
  }

  /** Writes and fsyncs every queued record, then applies them. */
  flush(): void {
    this.write()
    if (this.sinceCompaction >= (this.options.compactEvery ?? 2000)) this.compact()
  }

  private write(): void {
    if (this.pending.length === 0) return
    this.assertOpen()
    const records = this.pending.splice(0)
    let seq = this.seqValue
    const text = records.map((record) => `${JSON.stringify({seq: ++seq, ...record})}\n`).join('')
    const before = fstatSync(this.fd).size
    try {
      writeSync(this.fd, text)
      fsyncSync(this.fd)
    } catch (error) {
      // Leave no torn line behind for the next append to land after.
      try {
        ftruncateSync(this.fd, before)
      } catch {
        // the tail stays torn; the next open drops it
      }
      throw new ExternalError(`Cannot write the provider journal in ${this.options.dir}: ${(error as Error).message}.`, {code: 'STATE_WRITE_FAILED', cause: error})
    }
    for (const record of records) this.options.apply(this.state, record)
    this.seqValue = seq
    this.sinceCompaction += records.length
  }

  /** Writes the state as the snapshot and starts an empty journal. */
  compact(): void {
    this.assertOpen()
    this.write()
    writeFileDurable(this.options.dir, SNAPSHOT, JSON.stringify({version: this.options.version ?? 1, seq: this.seqValue, state: this.state}))
    closeSync(this.fd)
    writeFileDurable(this.options.dir, JOURNAL, '')
    this.fd = openSync(join(this.options.dir, JOURNAL), 'a', 0o600)
    this.sinceCompaction = 0
  }

  /** Flushes, compacts and closes. Idempotent. */
  close(options: {compact?: boolean} = {}): void {
    if (this.closed) return
    this.write()
    if (options.compact ?? true) this.compact()
    closeSync(this.fd)
    this.closed = true
  }

  private assertOpen(): void {
    if (this.closed) throw new ExternalError('The provider journal is closed.', {code: 'STATE_CLOSED'})
  }
}

import {appendFileSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {afterEach, describe, expect, it} from 'vitest'

import {JournalStore} from '../../../src/provider/journal.js'

interface Counter {
  total: number
  items: Record<string, number>
}
type Op = {t: 'add'; key: string; n: number}

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ogpu-journal-'))
  dirs.push(dir)
  return join(dir, 'store')
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, {recursive: true, force: true})
})

function open(dir: string, compactEvery?: number) {
  return JournalStore.open<Counter, Op>({
    dir,
    initial: () => ({total: 0, items: {}}),
    apply: (state, op) => {
      state.total += op.n
      state.items[op.key] = (state.items[op.key] ?? 0) + op.n
    },
    compactEvery,
  })
}

describe('JournalStore', () => {
  it('keeps every acknowledged record across a reopen (no close: like kill -9)', () => {
    const dir = tempDir()
    const store = open(dir)
    store.append({t: 'add', key: 'a', n: 1})
    store.appendMany([{t: 'add', key: 'b', n: 2}, {t: 'add', key: 'a', n: 3}])
    expect(store.state).toEqual({total: 6, items: {a: 4, b: 2}})
    const again = open(dir) // the first one was never closed
    expect(again.state).toEqual({total: 6, items: {a: 4, b: 2}})
    expect(again.seq).toBe(3)
    expect(again.recovery).toEqual({snapshotSeq: 0, replayed: 3, droppedBytes: 0})
    const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l))
    expect(lines[0]).toEqual({seq: 1, t: 'add', key: 'a', n: 1})
  })

  it('ignores a torn last line (a crash mid-write), cuts it off, and appends cleanly after it', () => {
    const dir = tempDir()
    const store = open(dir)
    store.append({t: 'add', key: 'a', n: 1})
    store.append({t: 'add', key: 'a', n: 1})
    appendFileSync(join(dir, 'journal.jsonl'), '{"seq":3,"t":"add","key":"a","n":10') // torn: no closing brace, no newline
    const recovered = open(dir)
    expect(recovered.state.total).toBe(2)
    expect(recovered.recovery.droppedBytes).toBeGreaterThan(0)
    recovered.append({t: 'add', key: 'z', n: 5})
    const again = open(dir)
    expect(again.state).toEqual({total: 7, items: {a: 2, z: 5}})
    expect(again.seq).toBe(3)
  })

  it('drops a complete-looking last record that lacks its newline, and garbage (zeros) at the end', () => {
    const dir = tempDir()
    const store = open(dir)
    store.append({t: 'add', key: 'a', n: 1})
    appendFileSync(join(dir, 'journal.jsonl'), '{"seq":2,"t":"add","key":"a","n":1}')
    expect(open(dir).state.total).toBe(1)
    appendFileSync(join(dir, 'journal.jsonl'), '\0\0\0\0\n\0\0')
    expect(open(dir).state.total).toBe(1)
  })

  it('refuses a journal damaged in the middle', () => {
    const dir = tempDir()
    const store = open(dir)
    store.append({t: 'add', key: 'a', n: 1})
    appendFileSync(join(dir, 'journal.jsonl'), 'garbage\n')
    store.append({t: 'add', key: 'a', n: 1})
    expect(() => open(dir)).toThrow(/corrupt at line 2/)
  })

  it('compacts into a snapshot and an empty journal, automatically and on close', () => {
    const dir = tempDir()
    const store = open(dir, 10)
    for (let i = 0; i < 25; i++) store.append({t: 'add', key: `k${i % 3}`, n: 1})
    expect(existsSync(join(dir, 'snapshot.json'))).toBe(true)
    const lines = readFileSync(join(dir, 'journal.jsonl'), 'utf8').trim().split('\n').filter(Boolean)
    expect(lines).toHaveLength(5) // 25 records, compacted at 10 and 20
    const reopened = open(dir, 10)
    expect(reopened.state.total).toBe(25)
    expect(reopened.recovery).toMatchObject({snapshotSeq: 20, replayed: 5})
    reopened.close()
    expect(statSync(join(dir, 'journal.jsonl')).size).toBe(0)
    const snapshot = JSON.parse(readFileSync(join(dir, 'snapshot.json'), 'utf8'))
    expect(snapshot).toMatchObject({version: 1, seq: 25, state: {total: 25}})
    expect(open(dir).state).toEqual({total: 25, items: {k0: 9, k1: 8, k2: 8}})
  })

  it('never applies a record twice after a crash between the snapshot and the journal reset', () => {
    const dir = tempDir()
    const store = open(dir)
    for (let i = 0; i < 4; i++) store.append({t: 'add', key: 'a', n: 1})
    const journal = readFileSync(join(dir, 'journal.jsonl'), 'utf8')
    store.compact()
    writeFileSync(join(dir, 'journal.jsonl'), journal) // as if the journal had not been replaced yet
    appendFileSync(join(dir, 'journal.jsonl'), `${JSON.stringify({seq: 5, t: 'add', key: 'b', n: 1})}\n`)
    const recovered = open(dir)
    expect(recovered.state).toEqual({total: 5, items: {a: 4, b: 1}})
    expect(recovered.recovery).toEqual({snapshotSeq: 4, replayed: 1, droppedBytes: 0})
  })

  it('group-commits appendSoon records on the next turn, in order with append', async () => {
    const dir = tempDir()
    const store = open(dir)
    store.appendSoon({t: 'add', key: 'a', n: 1})
    store.appendSoon({t: 'add', key: 'b', n: 1})
    expect(store.state.total).toBe(0) // not written yet
    await new Promise((resolve) => setImmediate(resolve))
    expect(store.state.total).toBe(2)
    store.appendSoon({t: 'add', key: 'c', n: 1})
    store.append({t: 'add', key: 'd', n: 1}) // flushes c first
    expect(open(dir).state.items).toEqual({a: 1, b: 1, c: 1, d: 1})
  })

  it('reads the state without touching the files (another process owns them)', () => {
    const dir = tempDir()
    const store = open(dir)
    store.append({t: 'add', key: 'a', n: 2})
    appendFileSync(join(dir, 'journal.jsonl'), '{"seq":2,"t":"ad')
    const size = statSync(join(dir, 'journal.jsonl')).size
    const state = JournalStore.read<Counter, Op>({dir, initial: () => ({total: 0, items: {}}), apply: (s, op) => void (s.total += op.n)})
    expect(state?.total).toBe(2)
    expect(statSync(join(dir, 'journal.jsonl')).size).toBe(size)
    expect(JournalStore.read({dir: join(dir, 'none'), initial: () => 0, apply: () => {}})).toBeUndefined()
  })

  it('removes leftovers of an interrupted atomic write', () => {
    const dir = tempDir()
    open(dir).append({t: 'add', key: 'a', n: 1})
    writeFileSync(join(dir, 'snapshot.json.tmp'), '{"half')
    const store = open(dir)
    expect(store.state.total).toBe(1)
    expect(existsSync(join(dir, 'snapshot.json.tmp'))).toBe(false)
  })
})

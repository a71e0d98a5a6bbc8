import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Wallet} from 'ethers'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'

import {VoucherBook} from '../../../src/gateway/voucher-book.js'

const client = Wallet.createRandom().address
const alice = Wallet.createRandom().address
const bob = Wallet.createRandom().address
const market = Wallet.createRandom().address

describe('VoucherBook', () => {
  let dir: string
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ogpu-vouchers-'))
  })
  afterEach(() => rmSync(dir, {recursive: true, force: true}))

  const open = (streamId = 1n, who = client) => VoucherBook.open({dir, chainId: 31337, market, streamId, client: who})

  it('accumulates per provider and survives a reopen (a restart continues the amounts)', () => {
    const book = open()
    expect(book.credit(alice, 10n)).toBe(10n)
    expect(book.credit(alice, 5n)).toBe(15n)
    expect(book.credit(bob.toLowerCase(), 7n)).toBe(7n)
    book.signed(alice, 15n, '0xsig')
    book.delivered(alice, 15n)
    book.close()
    const again = open()
    expect(again).not.toBe(book)
    expect(again.get(alice)).toEqual({provider: alice, cumulative: 15n, signature: '0xsig', delivered: 15n})
    expect(again.credit(alice, 1n)).toBe(16n)
    expect(again.total).toBe(23n)
    again.close()
    expect(open().get(alice).cumulative).toBe(16n)
  })

  it('ignores a signature of an amount that was superseded, and never lowers delivered', () => {
    const book = open()
    book.credit(alice, 10n)
    book.credit(alice, 10n)
    book.signed(alice, 10n, '0xold')
    expect(book.get(alice).signature).toBeNull()
    book.delivered(alice, 20n)
    book.delivered(alice, 10n)
    expect(book.get(alice).delivered).toBe(20n)
  })

  it("pays a response's providers in one write; signatures and acknowledgements are written with the next credit or the close", () => {
    const onDisk = (book: VoucherBook) => JSON.parse(readFileSync(book.path, 'utf8')).providers as Record<string, {cumulative: string; signature: string | null; delivered: string}>
    const book = open(7n)
    expect(book.creditMany([[alice, 10n], [bob, 4n], [alice, 0n]])).toEqual([10n, 4n, 10n])
    expect(onDisk(book)[alice]).toEqual({cumulative: '10', signature: null, delivered: '0'})
    expect(onDisk(book)[bob]!.cumulative).toBe('4')
    expect(() => book.creditMany([[alice, 1n], [bob, -1n]])).toThrow(/negative/)
    expect(book.get(alice).cumulative).toBe(10n) // a refused batch credits nobody
    book.signed(alice, 10n, '0xsig')
    book.delivered(alice, 10n)
    expect(onDisk(book)[alice]).toEqual({cumulative: '10', signature: null, delivered: '0'}) // not written yet: a crash re-signs and re-sends
    book.credit(bob, 1n)
    expect(onDisk(book)[alice]).toEqual({cumulative: '10', signature: '0xsig', delivered: '10'})
    book.signed(bob, 5n, '0xbob')
    book.close()
    expect(onDisk(book)[bob]).toEqual({cumulative: '5', signature: '0xbob', delivered: '0'})
  })

  it('raises to the on-chain redeemed floor but never lowers', () => {
    const book = open()
    book.credit(alice, 10n)
    expect(book.raiseTo(alice, 4n)).toBe(false)
    expect(book.raiseTo(bob, 30n)).toBe(true)
    book.close()
    expect(open().get(bob).cumulative).toBe(30n)
  })

  it('keeps streams apart and refuses a book of another client or a corrupt file', () => {
    const one = open(1n)
    one.credit(alice, 10n)
    expect(open(2n).get(alice).cumulative).toBe(0n)
    expect(() => open(1n, Wallet.createRandom().address)).toThrow(/is open for client/)
    one.close()
    expect(() => open(1n, Wallet.createRandom().address)).toThrow(/belongs to client/)
    const book = open(3n)
    book.credit(alice, 1n)
    book.close()
    writeFileSync(book.path, '{not json')
    expect(() => open(3n)).toThrow(/not valid JSON/)
  })

  it('writes plain JSON with decimal strings', () => {
    const book = open()
    book.credit(alice, 123456789012345678901234567890n)
    const file = JSON.parse(readFileSync(book.path, 'utf8'))
    expect(file.providers[alice].cumulative).toBe('123456789012345678901234567890')
    expect(() => book.credit(alice, -1n)).toThrow(/negative/)
  })

  it('is one ledger per stream: shared inside a process, locked against another live process, a stale lock taken over', async () => {
    const a = open(5n)
    const b = open(5n)
    expect(b).toBe(a)
    a.credit(alice, 3n)
    expect(b.credit(alice, 4n)).toBe(7n)
    a.close()
    expect(existsSync(`${a.path}.lock`)).toBe(true) // b still holds it
    b.close()
    expect(existsSync(`${a.path}.lock`)).toBe(false)

    // Another live process holds the lock: refused, naming its pid.
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {stdio: 'ignore'})
    try {
      writeFileSync(`${a.path}.lock`, String(other.pid))
      expect(() => open(5n)).toThrow(new RegExp(`pid ${other.pid}`))
    } finally {
      other.kill()
      await new Promise((resolve) => other.once('exit', resolve))
    }
    // Its process is gone: the lock is stale and taken over, and the amounts are intact.
    const c = open(5n)
    expect(c.get(alice).cumulative).toBe(7n)
    expect(readFileSync(`${c.path}.lock`, 'utf8')).toBe(String(process.pid))
    c.close()
  })
})

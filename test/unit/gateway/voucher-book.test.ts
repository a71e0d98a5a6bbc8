import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
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
    const again = open()
    expect(again.get(alice)).toEqual({provider: alice, cumulative: 15n, signature: '0xsig', delivered: 15n})
    expect(again.credit(alice, 1n)).toBe(16n)
    expect(again.total).toBe(23n)
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

  it('raises to the on-chain redeemed floor but never lowers', () => {
    const book = open()
    book.credit(alice, 10n)
    expect(book.raiseTo(alice, 4n)).toBe(false)
    expect(book.raiseTo(bob, 30n)).toBe(true)
    expect(open().get(bob).cumulative).toBe(30n)
  })

  it('keeps streams apart and refuses a book of another client or a corrupt file', () => {
    open(1n).credit(alice, 10n)
    expect(open(2n).get(alice).cumulative).toBe(0n)
    expect(() => open(1n, Wallet.createRandom().address)).toThrow(/belongs to client/)
    const book = open(3n)
    book.credit(alice, 1n)
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
})

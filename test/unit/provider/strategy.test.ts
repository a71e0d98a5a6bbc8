import {chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {setTimeout as delay} from 'node:timers/promises'

import {parseUnits} from 'ethers'
import {afterAll, describe, expect, it, vi} from 'vitest'

import {type BidDecision, costPlus, createStrategy, floorOf, type StrategyInput, undercut, withMargin} from '../../../src/provider/strategy.js'

const oGPU = (v: string) => parseUnits(v, 18)
const dir = mkdtempSync(join(tmpdir(), 'ogpu-strategy-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** Waits for `check` to hold, polling on the real clock (node:timers/promises is not faked); the test timeout bounds it. */
async function until<T>(check: () => T): Promise<NonNullable<T>> {
  for (;;) {
    const value = check()
    if (value) return value as NonNullable<T>
    await delay(20)
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function input(overrides: {cost?: string; minPrice?: string; maxPrice?: string; best?: string; margin?: number} = {}): StrategyInput {
  return {
    task: {
      id: 7,
      client: '0x0000000000000000000000000000000000000001',
      modelHash: `0x${'ab'.repeat(32)}`,
      itemCount: 20,
      checkpoints: 2,
      maxTokens: 8,
      outputTokens: 160,
      promptTokens: 200,
      maxPrice: oGPU(overrides.maxPrice ?? '30'),
      collateral: oGPU('10'),
      councilFeePerVote: oGPU('1'),
      councilSize: 2,
      maxBids: 3,
      biddingEnd: 1_900_000_000,
      bids: overrides.best ? [{provider: '0x0000000000000000000000000000000000000002', price: oGPU(overrides.best)}] : [],
      ...(overrides.best ? {bestPrice: oGPU(overrides.best)} : {}),
    },
    estimate: {seconds: 2, cost: oGPU(overrides.cost ?? '10')},
    minPrice: oGPU(overrides.minPrice ?? '0'),
    margin: overrides.margin ?? 0.2,
    address: '0x0000000000000000000000000000000000000003',
  }
}

function script(name: string, body: string): string {
  const path = join(dir, name)
  writeFileSync(path, `#!/usr/bin/env node\n${body}\n`)
  chmodSync(path, 0o755)
  return path
}

describe('cost-plus', () => {
  it('bids cost × (1 + margin)', () => {
    expect(costPlus(input())).toEqual({bid: true, price: oGPU('12')})
    expect(withMargin(oGPU('10'), 0.05)).toBe(oGPU('10.5'))
  })
  it('bids at least the minimum, at most the max price', () => {
    expect(costPlus(input({minPrice: '16'}))).toEqual({bid: true, price: oGPU('16')})
    expect(costPlus(input({cost: '28'}))).toEqual({bid: true, price: oGPU('30')})
  })
  it('does not bid when cost or minimum exceed the max price', () => {
    expect(costPlus(input({cost: '31'}))).toMatchObject({bid: false, reason: expect.stringMatching(/below this provider's floor/)})
    expect(costPlus(input({minPrice: '40'})).bid).toBe(false)
  })
})

describe('undercut', () => {
  it('is cost-plus while there is no bid', () => {
    expect(undercut(input())).toEqual(costPlus(input()))
  })
  it('beats the best bid by a step (1 % by default)', () => {
    expect(undercut(input({best: '20'}))).toEqual({bid: true, price: oGPU('19.8')})
    expect(undercut(input({best: '20'}), oGPU('2'))).toEqual({bid: true, price: oGPU('18')})
  })
  it('never goes below its floor: max(cost, minimum)', () => {
    expect(undercut(input({best: '10', cost: '10'}), oGPU('2'))).toEqual({bid: true, price: oGPU('10')})
    expect(undercut(input({best: '12', cost: '5', minPrice: '11.5'}), oGPU('2'))).toEqual({bid: true, price: oGPU('11.5')})
    expect(floorOf(input({cost: '5', minPrice: '11.5'}))).toBe(oGPU('11.5'))
    for (const best of ['1', '9', '10.01', '25'])
      expect((undercut(input({best, cost: '10'})) as {price: bigint}).price).toBeGreaterThanOrEqual(oGPU('10'))
  })
  it('does not bid when even its floor is above the max price', () => {
    expect(undercut(input({best: '20', cost: '31'})).bid).toBe(false)
  })
})

describe('script strategy', () => {
  it('bids the price the script prints, after reading the task on stdin', async () => {
    const path = script('price.js', `let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{const j=JSON.parse(s);console.log('thinking');console.log(JSON.stringify({price: String(Number(j.task.maxPrice) - Number(j.estimate.cost) / 10)}))})`)
    expect(await createStrategy(`script:${path}`).decide(input())).toEqual({bid: true, price: oGPU('29')})
  })
  it('runs an executable without a .js name too', async () => {
    const path = script('price-exe', `console.log('{"price": 12.5}')`)
    expect(await createStrategy(`script:${path}`).decide(input())).toEqual({bid: true, price: oGPU('12.5')})
  })
  it('does not bid on {"bid": false}, a failure, garbage, or a price above the max', async () => {
    const cases: Array<[string, RegExp]> = [
      [`console.log(JSON.stringify({bid: false, reason: 'too busy'}))`, /too busy/],
      [`process.exit(3)`, /exited with 3/],
      [`console.log('twelve')`, /not JSON/],
      [`console.log('{"price": "31"}')`, /above the max price/],
      [`console.log('{"price": "-1"}')`, /unreadable price/],
    ]
    for (const [i, [body, reason]] of cases.entries()) {
      const decision = await createStrategy(`script:${script(`s${i}.js`, body)}`).decide(input())
      expect(decision).toMatchObject({bid: false, reason: expect.stringMatching(reason)})
    }
  })
  // The limit is read off a fake clock (the script runs in real time, in its own process): no wall-clock bounds.
  it('times out to no bid, and kills the script', async () => {
    const pidFile = join(dir, 'slow.pid')
    const path = script('slow.js', `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setTimeout(() => console.log('{"price": "1"}'), 60_000)`)
    vi.useFakeTimers({toFake: ['setTimeout', 'clearTimeout']})
    try {
      let decision: BidDecision | undefined
      const pending = createStrategy(`script:${path}`, {timeoutMs: 400})
        .decide(input())
        .then((d) => (decision = d))
      const pid = Number(await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8')))
      await vi.advanceTimersByTimeAsync(399)
      expect(decision).toBeUndefined() // still waiting: the limit has not passed
      await vi.advanceTimersByTimeAsync(1)
      await pending
      expect(decision).toMatchObject({bid: false, reason: expect.stringMatching(/did not answer within 0.4 s/)})
      await until(() => !isAlive(pid)) // killed, not left running
    } finally {
      vi.useRealTimers()
    }
  })
  it('uses a 5 s limit by default', async () => {
    const path = script('slower.js', `setTimeout(() => console.log('{"price": "1"}'), 5_600)`)
    vi.useFakeTimers({toFake: ['setTimeout', 'clearTimeout']})
    try {
      let decision: BidDecision | undefined
      const pending = createStrategy(`script:${path}`)
        .decide(input())
        .then((d) => (decision = d))
      await vi.advanceTimersByTimeAsync(4_999)
      expect(decision).toBeUndefined()
      await vi.advanceTimersByTimeAsync(1)
      await pending
      expect(decision).toMatchObject({bid: false, reason: expect.stringMatching(/did not answer within 5 s/)})
    } finally {
      vi.useRealTimers()
    }
  })
  it('refuses a missing script or an unknown strategy at start', () => {
    expect(() => createStrategy(`script:${join(dir, 'nope.sh')}`)).toThrow(/does not exist/)
    expect(() => createStrategy('cheapest')).toThrow(/Unknown strategy/)
  })
})

describe('module strategy', () => {
  it('calls bid(task, context), sync or async', async () => {
    const sync = join(dir, 'sync.mjs')
    writeFileSync(sync, `export function bid(task, context) { return {price: String(Number(context.costPlus) + 1)} }`)
    expect(await createStrategy(`module:${sync}`).decide(input())).toEqual({bid: true, price: oGPU('13')})
    const asyncModule = join(dir, 'async.mjs')
    writeFileSync(asyncModule, `export async function bid(task) { return task.bids.length ? {bid: false, reason: 'late'} : {price: 5} }`)
    expect(await createStrategy(`module:${asyncModule}`).decide(input())).toEqual({bid: true, price: oGPU('5')})
    expect(await createStrategy(`module:${asyncModule}`).decide(input({best: '9'}))).toMatchObject({bid: false, reason: expect.stringMatching(/late/)})
  })
  it('does not bid when the module throws or hangs', async () => {
    const throwing = join(dir, 'throw.mjs')
    writeFileSync(throwing, `export function bid() { throw new Error('boom') }`)
    expect(await createStrategy(`module:${throwing}`).decide(input())).toMatchObject({bid: false, reason: expect.stringMatching(/boom/)})
    const hanging = join(dir, 'hang.mjs')
    writeFileSync(hanging, `export function bid() { return new Promise(() => {}) }`)
    expect(await createStrategy(`module:${hanging}`, {timeoutMs: 300}).decide(input())).toMatchObject({bid: false, reason: expect.stringMatching(/no answer/)})
  })
})

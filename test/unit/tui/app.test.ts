/**
 * The Ink app with ink-testing-library, on fake ports (a market in memory whose sync can fail): layout at 80×24 and
 * after a resize, windowing over 5,000 tasks, keyboard, filter, NO_COLOR, the reconnecting banner, frame batching.
 * Every wait is on a frame condition, never a fixed sleep.
 */
import {EventEmitter} from 'node:events'

import chalk from 'chalk'
import {render as inkRender} from 'ink'
import {cleanup, render} from 'ink-testing-library'
import {createElement} from 'react'
import {afterEach, describe, expect, it} from 'vitest'

import {NO_STREAM_MARKET} from '../../../src/dashboard/streams.js'
import {App, type AppProps} from '../../../src/tui/app.js'
import {computeLayout} from '../../../src/tui/layout.js'
import {splitKeys} from '../../../src/tui/state.js'
import {waitFor} from '../../helpers/cli.js'
import {FakeMarket, MODEL_B, fakePorts, makeMarket, makeTask, oGPU} from './fixtures.js'

type Rendered = ReturnType<typeof render>
const KEYS = {down: '\u001B[B', up: '\u001B[A', enter: '\r', escape: '\u001B', tab: '\t', backTab: '\u001B[Z', end: 'G', home: 'g'}

afterEach(() => cleanup())

const frame = (app: Rendered): string => app.lastFrame() ?? ''
const plain = (text: string): string => text.replace(/\u001B\[[0-9;]*m/g, '')

async function until(app: Rendered, check: (text: string) => boolean, what: string): Promise<string> {
  try {
    return await waitFor(() => (check(plain(frame(app))) ? plain(frame(app)) : undefined), what, 8000, 10)
  } catch (error) {
    throw new Error(`${(error as Error).message}; the last frame:\n${plain(frame(app))}`)
  }
}

function mount(market: FakeMarket, props: Partial<AppProps> = {}, options: Parameters<typeof fakePorts>[1] = {}): Rendered {
  return render(createElement(App, {ports: fakePorts(market, options), size: {columns: 80, rows: 24}, colors: false, ...props}))
}

function mixedMarket(n: number): FakeMarket {
  return new FakeMarket(
    makeMarket(
      Array.from({length: n}, (_, i) =>
        makeTask(i + 1, {status: i % 10 === 3 ? 'assigned' : i % 10 === 7 ? 'finalized' : 'open', bids: [20 + (i % 5), 25, 22], model: i % 4 === 0 ? MODEL_B : undefined}),
      ),
    ),
  )
}

const listRows = (text: string): string[] => text.split('\n').filter((l) => /^[› ]\s*\d+ (abab|cdcd)/.test(l))

describe('ogpu tui (ink)', () => {
  it('fits 80×24 with every pane, and follows a resize', async () => {
    const market = mixedMarket(30)
    const app = mount(market)
    const text = await until(app, (f) => f.includes('● live') && f.includes('ETH 10000') && f.includes('daemon unreachable'), 'the first live frame')
    const lines = text.split('\n')
    expect(lines.length).toBeLessThanOrEqual(23) // rows − 1: a full-height frame would make ink clear the screen
    for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(80)
    for (const pane of ['Auction book · active', 'My wallet · dev3', 'Market pulse', 'Events', `Streams │ ${NO_STREAM_MARKET}`, 'q quit']) expect(text).toContain(pane)
    expect(text).toMatch(/Task #30 · bidding \dm\d\ds left/)
    expect(text).toContain('stake 5000 free 4950')
    expect(text).toContain('daemon unreachable')
    expect(listRows(text)).toHaveLength(computeLayout(80, 24).listRows)

    app.rerender(createElement(App, {ports: fakePorts(market), size: {columns: 120, rows: 40}, colors: false}))
    const wide = await until(app, (f) => listRows(f).length === computeLayout(120, 40).listRows, 'the resized frame')
    expect(wide.split('\n').length).toBeLessThanOrEqual(39)
    for (const line of wide.split('\n')) expect([...line].length).toBeLessThanOrEqual(120)
    app.rerender(createElement(App, {ports: fakePorts(market), size: {columns: 40, rows: 10}, colors: false}))
    await until(app, (f) => f.includes('needs at least 50×12'), 'the too-small notice')
  })

  it('renders only the visible rows of 5,000 tasks', async () => {
    const market = mixedMarket(5000)
    let builds = 0
    let slowest = 0
    const app = mount(market, {
      onModel: (ms) => {
        builds++
        slowest = Math.max(slowest, ms)
      },
    })
    const text = await until(app, (f) => f.includes('1-10 of 4500'), 'the windowed auction book')
    const rows = listRows(text)
    expect(rows).toHaveLength(computeLayout(80, 24).listRows)
    expect(rows[0]).toMatch(/^›\s*5000 /)
    expect(builds).toBeGreaterThan(0)
    expect(slowest).toBeLessThan(250) // the whole model for 5,000 tasks, per frame (generous for a loaded CI box)
  })

  it('moves with j/k, arrows, g/G; tabs between panes; enter opens the detail and esc closes it', async () => {
    const app = mount(new FakeMarket(makeMarket(Array.from({length: 5000}, (_, i) => makeTask(i + 1, {bids: [20, 25, 22]})))))
    await until(app, (f) => f.includes('Task #5000'), 'the first task selected')
    app.stdin.write('j')
    await until(app, (f) => f.includes('Task #4999'), 'j to move down')
    app.stdin.write(KEYS.down)
    await until(app, (f) => f.includes('Task #4998'), 'down arrow')
    app.stdin.write('k')
    await until(app, (f) => f.includes('Task #4999'), 'k to move up')
    app.stdin.write('jjj') // keys that arrive together are each applied
    await until(app, (f) => f.includes('Task #4996'), 'three j at once')
    app.stdin.write(KEYS.end)
    const last = await until(app, (f) => f.includes('Task #1 ·'), 'G to the end')
    expect(last).toContain('4991-5000 of 5000')
    expect(listRows(last).at(-1)).toMatch(/^›/)
    app.stdin.write(KEYS.home)
    await until(app, (f) => f.includes('Task #5000'), 'g back to the top')

    app.stdin.write(KEYS.tab)
    await until(app, (f) => f.includes('▸My wallet'), 'tab to the wallet pane')
    app.stdin.write(KEYS.backTab)
    await until(app, (f) => f.includes('▸Auction book'), 'shift-tab back')
    app.stdin.write(KEYS.enter)
    const detail = await until(app, (f) => f.includes('lowest first'), 'the task detail')
    expect(detail).toContain('client 0x')
    expect(detail).toMatch(/1\s+20\s+0x\S+\s+1000\s+best/) // price, provider, stake, role
    app.stdin.write(KEYS.escape)
    await until(app, (f) => f.includes('▸Auction book') && !f.includes('lowest first'), 'esc back to the panes')
  })

  it('filters the auction book by status and by model with /', async () => {
    const app = mount(mixedMarket(40))
    await until(app, (f) => f.includes('● live'), 'live')
    app.stdin.write('/')
    await until(app, (f) => f.includes('/ filter:'), 'the filter prompt')
    app.stdin.write('assigned')
    await until(app, (f) => f.includes('/ filter: assigned'), 'the typed filter')
    app.stdin.write(KEYS.enter)
    const assigned = await until(app, (f) => f.includes('Auction book · assigned'), 'the status filter applied')
    expect(listRows(assigned).length).toBe(4)
    expect(assigned).toMatch(/Task #34 · cp 1\/2 running/)
    app.stdin.write('/')
    await until(app, (f) => f.includes('/ filter:'), 'the prompt again')
    app.stdin.write('all cdcd')
    app.stdin.write(KEYS.enter)
    const model = await until(app, (f) => f.includes('Auction book · all, model ~ cdcd'), 'the model filter')
    expect(listRows(model).every((l) => l.includes('cdcdcdcd'))).toBe(true)
    app.stdin.write('/')
    await until(app, (f) => f.includes('/ filter:'), 'the prompt')
    app.stdin.write('nope')
    app.stdin.write(KEYS.escape)
    await until(app, (f) => f.includes('model ~ cdcd') && !f.includes('/ filter:'), 'esc keeps the previous filter')
  })

  it('uses no colour at all under NO_COLOR, and colours otherwise', async () => {
    const level = chalk.level
    chalk.level = 1
    try {
      const colour = /\u001B\[(3[0-9]|9[0-7]|4[0-9]|10[0-7]|38;|48;)/
      const mono = mount(mixedMarket(20), {colors: false})
      await until(mono, (f) => f.includes('● live') && f.includes('ETH'), 'live, mono')
      expect(frame(mono)).not.toMatch(colour)
      expect(frame(mono)).toContain('\u001B[7m') // the focused title and selection stay visible (inverse)
      const coloured = mount(mixedMarket(20), {colors: true})
      await until(coloured, (f) => f.includes('● live') && f.includes('ETH'), 'live, colours')
      expect(frame(coloured)).toMatch(colour)
    } finally {
      chalk.level = level
    }
  })

  it('shows "reconnecting…" while the RPC is down and catches up from its cursor after', async () => {
    const market = mixedMarket(10)
    const app = mount(market)
    await until(app, (f) => f.includes('● live'), 'live')
    market.failing = new Error('connect ECONNREFUSED 127.0.0.1:8545')
    const down = await until(app, (f) => f.includes('reconnecting…') && f.includes('ECONNREFUSED'), 'the reconnecting banner')
    expect(down).toMatch(/reconnecting… attempt \d+, retry in \d+s · connect ECONNREFUSED/)
    expect(down).toContain('Task #10') // the last known market stays on screen
    // Meanwhile the chain moved on: a task was submitted and bid on.
    market.change((state) => state.tasks.set(11, makeTask(11, {bids: [7]})))
    market.change((state) => {
      const t = state.tasks.get(11)!
      t.bids.push({index: 1, provider: t.bids[0]!.provider.replace(/.$/, '9'), price: oGPU(6), block: 1, txHash: '0x'})
      t.bestIndex = 1
      t.bestPrice = oGPU(6)
    })
    market.failing = null
    const back = await until(app, (f) => f.includes('● live') && !f.includes('reconnecting'), 'live again')
    expect(listRows(back)[0]).toMatch(/^[› ]\s+11 .*2\/4\s+6 /)
  })

  it('batches a burst of market events into a few frames', async () => {
    const market = mixedMarket(20)
    const app = mount(market)
    await until(app, (f) => f.includes('● live'), 'live')
    for (let i = 0; i < 500; i++) market.change((state) => (state.tasks.get(20)!.bestPrice = oGPU(1 + (i % 7))))
    market.change((state) => (state.tasks.get(20)!.bestPrice = oGPU(3)))
    const before = app.frames.length
    await until(app, (f) => /^›\s+20 .*\s3 5m/m.test(f), 'the burst applied')
    // 501 events in one sync: one data dispatch, plus at most a tick or two.
    expect(app.frames.length - before).toBeLessThanOrEqual(4)
  })

  it('runs without keys when stdin is not a terminal, and quits with q when it is', async () => {
    const stdout = () => Object.assign(new EventEmitter(), {columns: 80, rows: 24, frames: [] as string[], write: (s: string) => true})
    class Stdin extends EventEmitter {
      data: string | null = null
      constructor(readonly isTTY: boolean) {
        super()
      }
      write(data: string) {
        this.data = data
        this.emit('readable')
      }
      read = () => {
        const data = this.data
        this.data = null
        return data
      }
      setEncoding() {}
      setRawMode() {}
      resume() {}
      pause() {}
      ref() {}
      unref() {}
    }
    const start = (isTTY: boolean) => {
      const out = stdout()
      out.write = (s: string) => out.frames.push(s) > 0
      const input = new Stdin(isTTY)
      const instance = inkRender(createElement(App, {ports: fakePorts(mixedMarket(5)), size: {columns: 80, rows: 24}, colors: false}), {
        stdout: out as never,
        stdin: input as never,
        debug: true,
        patchConsole: false,
        exitOnCtrlC: false,
      })
      return {out, input, instance}
    }
    const noKeys = start(false)
    await waitFor(() => noKeys.out.frames.at(-1)?.includes('keyboard unavailable (stdin is not a terminal) · Ctrl-C quits'), 'the no-keyboard help line', 8000, 10)
    noKeys.instance.unmount()

    const keys = start(true)
    await waitFor(() => keys.out.frames.at(-1)?.includes('● live'), 'live', 8000, 10)
    keys.input.write('q')
    await keys.instance.waitUntilExit() // q exits the app (the pollers stop with it)
  })

  it('splits keys that arrive together', () => {
    expect(splitKeys('jj\r', {})).toEqual([{input: 'j', key: {shift: false}}, {input: 'j', key: {shift: false}}, {input: '', key: {return: true}}])
    expect(splitKeys('q', {})).toEqual([{input: 'q', key: {}}])
  })
})

/**
 * The TUI's state and its reducer, and the keyboard map (a pure function from a key to actions). Data arrives as
 * actions from the hooks (batched, at most one dispatch per frame); keys dispatch at once.
 */
import type {ConnectionState} from '../dashboard/poller.js'
import type {ProviderStatusResult} from '../dashboard/provider-status.js'
import {DEFAULT_FILTER, indexOfId, neighborId, windowOffset} from '../dashboard/auction.js'
import type {StreamsView} from '../dashboard/streams.js'
import type {WalletChainData} from '../dashboard/wallet.js'

export type PaneId = 'auction' | 'wallet' | 'pulse' | 'events' | 'streams'
export const PANES: readonly PaneId[] = ['auction', 'wallet', 'pulse', 'events', 'streams']

export interface ClockState {
  block: number
  /** Chain time of that block, unix seconds. */
  time: number
  /** When it was read, ms since the epoch. */
  at: number
}

export interface TuiState {
  focus: PaneId
  /** The focused pane is shown full screen. */
  detail: boolean
  /** The applied auction filter. */
  filter: string
  /** The filter being typed after `/`, or null. */
  editing: string | null
  selectedId: number | null
  /** First auction row shown. */
  offset: number
  /** Scroll of each pane (and of the full-screen view). */
  scroll: Record<PaneId | 'detail', number>
  // Data (from the hooks).
  /** Bumped when the market changed. */
  dataVersion: number
  /** Bumped when a spec was read. */
  specsVersion: number
  connection: ConnectionState
  clock: ClockState | null
  /** Wall clock, ms (ticks every second). */
  tick: number
  wallet: {chain: WalletChainData | null; error: string | null; status: ProviderStatusResult | null}
  stakes: ReadonlyMap<string, bigint>
  streams: StreamsView
}

export type Action =
  | {type: 'batch'; actions: Action[]}
  | {type: 'market'}
  | {type: 'specs'}
  | {type: 'connection'; state: ConnectionState}
  | {type: 'clock'; clock: ClockState}
  | {type: 'tick'; now: number}
  | {type: 'wallet'; chain: WalletChainData | null; error: string | null}
  | {type: 'status'; status: ProviderStatusResult | null}
  | {type: 'stakes'; stakes: ReadonlyMap<string, bigint>}
  | {type: 'streams'; view: StreamsView}
  | {type: 'focus'; pane: PaneId}
  | {type: 'detail'; open: boolean}
  | {type: 'select'; id: number | null; offset: number}
  | {type: 'scroll'; pane: PaneId | 'detail'; to: number}
  | {type: 'filter-start'}
  | {type: 'filter-edit'; text: string}
  | {type: 'filter-apply'}
  | {type: 'filter-cancel'}

export function initialState(init: {streams: StreamsView; now?: number}): TuiState {
  return {
    focus: 'auction',
    detail: false,
    filter: DEFAULT_FILTER,
    editing: null,
    selectedId: null,
    offset: 0,
    scroll: {auction: 0, wallet: 0, pulse: 0, events: 0, streams: 0, detail: 0},
    dataVersion: 0,
    specsVersion: 0,
    connection: {status: 'connecting', attempt: 0},
    clock: null,
    tick: init.now ?? Date.now(),
    wallet: {chain: null, error: null, status: null},
    stakes: new Map(),
    streams: init.streams,
  }
}

export function reducer(state: TuiState, action: Action): TuiState {
  switch (action.type) {
    case 'batch':
      return action.actions.reduce(reducer, state)
    case 'market':
      return {...state, dataVersion: state.dataVersion + 1}
    case 'specs':
      return {...state, specsVersion: state.specsVersion + 1}
    case 'connection': {
      const a = action.state
      const b = state.connection
      if (a.status === b.status && a.attempt === b.attempt && a.lastError === b.lastError && a.retryAt === b.retryAt) return state
      return {...state, connection: a}
    }
    case 'clock':
      // A chain without new blocks (anvil without a block time) keeps its clock running from when the block was
      // first seen: the next block's timestamp is the wall clock then.
      if (state.clock && state.clock.block === action.clock.block) return state
      return {...state, clock: action.clock}
    case 'tick':
      return {...state, tick: action.now}
    case 'wallet':
      // Keep the last figures when a read fails.
      return {...state, wallet: {...state.wallet, chain: action.chain ?? state.wallet.chain, error: action.error}}
    case 'status':
      return {...state, wallet: {...state.wallet, status: action.status}}
    case 'stakes':
      return {...state, stakes: action.stakes}
    case 'streams':
      return {...state, streams: action.view}
    case 'focus':
      return {...state, focus: action.pane, detail: false, scroll: {...state.scroll, detail: 0}}
    case 'detail':
      return {...state, detail: action.open, scroll: {...state.scroll, detail: 0}}
    case 'select':
      return {...state, selectedId: action.id, offset: action.offset}
    case 'scroll':
      return {...state, scroll: {...state.scroll, [action.pane]: Math.max(0, action.to)}}
    case 'filter-start':
      return {...state, editing: '', focus: 'auction', detail: false}
    case 'filter-edit':
      return {...state, editing: action.text}
    case 'filter-apply':
      return {...state, filter: state.editing?.trim() || DEFAULT_FILTER, editing: null, selectedId: null, offset: 0}
    case 'filter-cancel':
      return {...state, editing: null}
  }
}

/** The chain's clock now: the last block's time plus the wall time since it was read. */
export function chainNow(state: Pick<TuiState, 'clock' | 'tick'>): number {
  if (!state.clock) return Math.floor(state.tick / 1000)
  return Math.floor(state.clock.time + Math.max(0, state.tick - state.clock.at) / 1000)
}

// ------------------------------------------------------------------ keyboard

/** The subset of ink's Key the map reads. */
export interface KeyInfo {
  upArrow?: boolean
  downArrow?: boolean
  leftArrow?: boolean
  rightArrow?: boolean
  pageUp?: boolean
  pageDown?: boolean
  home?: boolean
  end?: boolean
  return?: boolean
  escape?: boolean
  tab?: boolean
  shift?: boolean
  ctrl?: boolean
  backspace?: boolean
  delete?: boolean
}

/** What the keyboard needs to know about the screen. */
export interface NavContext {
  /** Ids of the auction book's rows, in order (all of them, not only the visible ones). */
  order: readonly number[]
  /** Visible auction rows. */
  listRows: number
  /** Lines each pane (and the full-screen view) has, and how many fit. */
  lines: Record<PaneId | 'detail', {total: number; visible: number}>
}

export interface KeyResult {
  actions: Action[]
  quit?: boolean
  refresh?: boolean
}

function moveBy(key: KeyInfo, input: string, page: number): number | undefined {
  if (key.upArrow || input === 'k') return -1
  if (key.downArrow || input === 'j') return 1
  if (key.pageUp || (key.ctrl && input === 'b')) return -page
  if (key.pageDown || input === ' ' || (key.ctrl && input === 'f')) return page
  if (key.home || input === 'g') return -Infinity
  if (key.end || input === 'G') return Infinity
  return undefined
}

/**
 * Splits what ink hands over as one input into keystrokes: keys typed fast (or sent over a slow link) arrive as one
 * chunk, "jj\r", which ink passes whole. Escape sequences come separately already.
 */
export function splitKeys(input: string, key: KeyInfo): Array<{input: string; key: KeyInfo}> {
  if (input.length <= 1 || key.ctrl || key.upArrow || key.downArrow || key.pageUp || key.pageDown || key.home || key.end) return [{input, key}]
  return [...input].map((ch) => {
    if (ch === '\r' || ch === '\n') return {input: '', key: {return: true}}
    if (ch === '\t') return {input: '', key: {tab: true}}
    if (ch === '\u007F' || ch === '\b') return {input: '', key: {backspace: true}}
    return {input: ch, key: {shift: /[A-Z]/.test(ch)}}
  })
}

export function keyToActions(state: TuiState, input: string, key: KeyInfo, nav: NavContext): KeyResult {
  if (state.editing !== null) {
    if (key.return) return {actions: [{type: 'filter-apply'}]}
    if (key.escape) return {actions: [{type: 'filter-cancel'}]}
    if (key.backspace || key.delete) return {actions: [{type: 'filter-edit', text: state.editing.slice(0, -1)}]}
    if (key.ctrl && input === 'u') return {actions: [{type: 'filter-edit', text: ''}]}
    if (input && !key.ctrl && !key.tab && !key.upArrow && !key.downArrow && /^[\x20-\x7e]+$/.test(input)) return {actions: [{type: 'filter-edit', text: (state.editing + input).slice(0, 60)}]}
    return {actions: []}
  }
  if (input === 'q' || (key.ctrl && input === 'c')) return {actions: [], quit: true}
  if (key.tab) {
    const i = PANES.indexOf(state.focus)
    const next = PANES[(i + (key.shift ? PANES.length - 1 : 1)) % PANES.length]!
    return {actions: [{type: 'focus', pane: next}]}
  }
  if (input === '/') return {actions: [{type: 'filter-start'}]}
  if (input === 'r') return {actions: [], refresh: true}
  if (key.return) return {actions: [{type: 'detail', open: !state.detail}]}
  if (key.escape || (key.backspace && state.detail)) return state.detail ? {actions: [{type: 'detail', open: false}]} : {actions: []}
  const pane = state.detail ? 'detail' : state.focus
  const page = pane === 'auction' ? Math.max(1, nav.listRows - 1) : Math.max(1, nav.lines[pane].visible - 1)
  const delta = moveBy(key, input, page)
  if (delta === undefined) return {actions: []}
  if (pane === 'auction') {
    if (nav.order.length === 0) return {actions: []}
    const step = Number.isFinite(delta) ? delta : delta > 0 ? nav.order.length : -nav.order.length
    const id = neighborId(nav.order, state.selectedId ?? nav.order[Math.min(state.offset, nav.order.length - 1)]!, step)
    if (id === null) return {actions: []}
    const offset = windowOffset(state.offset, indexOfId(nav.order, id), nav.listRows, nav.order.length)
    return {actions: [{type: 'select', id, offset}]}
  }
  const {total, visible} = nav.lines[pane]
  const max = Math.max(0, total - visible)
  const current = Math.min(state.scroll[pane], max)
  const to = Number.isFinite(delta) ? Math.max(0, Math.min(max, current + delta)) : delta > 0 ? max : 0
  return {actions: to === current ? [] : [{type: 'scroll', pane, to}]}
}

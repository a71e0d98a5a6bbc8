/**
 * The TUI's hooks: every poll and subscription lives here, started in an effect and stopped in its cleanup. Data
 * goes into the app's reducer through `useBatchedDispatch`, which coalesces everything that arrives within a frame
 * (100 ms) into one dispatch: at most ~10 renders a second, whatever the chain does.
 */
import {useCallback, useEffect, useRef, useState, type Dispatch} from 'react'
import {useInput, useStdin, type Key} from 'ink'

import {Poller} from '../dashboard/poller.js'
import type {DashboardPorts} from '../dashboard/session.js'
import type {SpecRef} from '../dashboard/specs.js'
import {readStreams, type StreamSource, type StreamsView} from '../dashboard/streams.js'
import type {Action} from './state.js'

export interface TerminalSize {
  columns: number
  rows: number
}

/** The terminal's size, following resizes. `override` fixes it (tests). */
export function useTerminalSize(stdout: NodeJS.WriteStream, override?: TerminalSize): TerminalSize {
  const read = (): TerminalSize => ({columns: stdout.columns || 80, rows: stdout.rows || 24})
  const [size, setSize] = useState<TerminalSize>(override ?? read)
  useEffect(() => {
    if (override) {
      setSize((s) => (s.columns === override.columns && s.rows === override.rows ? s : override))
      return
    }
    const onResize = () => setSize((s) => {
      const next = read()
      return s.columns === next.columns && s.rows === next.rows ? s : next
    })
    onResize()
    stdout.on('resize', onResize)
    return () => {
      stdout.off('resize', onResize)
    }
  }, [stdout, override?.columns, override?.rows])
  return size
}

/**
 * A dispatch that batches: actions queued within `frameMs` of the last flush go out together as one `batch` action,
 * the latest of each type winning (a thousand "market changed" events become one).
 */
export function useBatchedDispatch(dispatch: Dispatch<Action>, frameMs: number): (action: Action) => void {
  const pending = useRef(new Map<string, Action>())
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined)
  const last = useRef(0)
  const alive = useRef(true)
  useEffect(() => {
    alive.current = true
    return () => {
      alive.current = false
      if (timer.current) clearTimeout(timer.current)
      timer.current = undefined
    }
  }, [])
  return useCallback(
    (action: Action) => {
      if (!alive.current) return
      pending.current.set(action.type, action)
      if (timer.current) return
      const wait = Math.max(0, last.current + frameMs - Date.now())
      timer.current = setTimeout(() => {
        timer.current = undefined
        last.current = Date.now()
        const actions = [...pending.current.values()]
        pending.current.clear()
        if (alive.current && actions.length > 0) dispatch({type: 'batch', actions})
      }, wait)
    },
    [dispatch, frameMs],
  )
}

/** Polls the chain: the head's clock, then the indexer from its cursor. Returns a function that polls at once. */
export function useMarketFeed(ports: DashboardPorts, enqueue: (action: Action) => void, intervalMs: number): () => void {
  const poller = useRef<Poller | undefined>(undefined)
  useEffect(() => {
    const off = ports.market.onEvent?.(() => enqueue({type: 'market'}))
    let prepared = false
    const p = new Poller({
      intervalMs,
      timeoutMs: 120_000, // a long catch-up is not a failure: each RPC request has its own timeout
      run: async (signal) => {
        const clock = await ports.readChainClock(signal)
        enqueue({type: 'clock', clock: {...clock, at: Date.now()}})
        if (!prepared) {
          await ports.prepare?.(signal)
          prepared = true
          enqueue({type: 'market'})
        }
        const cursor = ports.market.state.cursor
        await ports.market.sync(signal)
        if (ports.market.state.cursor !== cursor) enqueue({type: 'market'})
      },
      onState: (state) => enqueue({type: 'connection', state}),
    })
    poller.current = p
    p.start()
    return () => {
      off?.()
      p.stop()
    }
  }, [ports, enqueue, intervalMs])
  return useCallback(() => poller.current?.poke(), [])
}

/** Polls the wallet's balances, stake and registration. */
export function useWalletFeed(ports: DashboardPorts, enqueue: (action: Action) => void, intervalMs: number): () => void {
  const poller = useRef<Poller | undefined>(undefined)
  const address = ports.wallet?.address
  useEffect(() => {
    if (!address) return
    const p = new Poller({
      intervalMs,
      timeoutMs: 30_000,
      maxBackoffMs: 10_000,
      run: async () => {
        try {
          enqueue({type: 'wallet', chain: await ports.readWallet(address), error: null})
        } catch (error) {
          enqueue({type: 'wallet', chain: null, error: (error as Error).message.split('\n')[0]!.slice(0, 120)})
          throw error
        }
      },
    })
    poller.current = p
    p.start()
    return () => p.stop()
  }, [ports, address, enqueue, intervalMs])
  return useCallback(() => poller.current?.poke(), [])
}

/** Polls a provider's GET /v1/ogpu/status (null endpoint: nothing to poll). */
export function useProviderStatusFeed(ports: DashboardPorts, endpoint: string | null, enqueue: (action: Action) => void, intervalMs: number): void {
  useEffect(() => {
    if (!endpoint) {
      enqueue({type: 'status', status: null})
      return
    }
    const p = new Poller({
      intervalMs,
      timeoutMs: 10_000,
      run: async (signal) => {
        enqueue({type: 'status', status: await ports.fetchStatus(endpoint, signal)})
      },
    })
    p.start()
    return () => p.stop()
  }, [ports, endpoint, enqueue, intervalMs])
}

/** Polls the active stake of the selected task's bidders (for the ladder). */
export function useStakesFeed(ports: DashboardPorts, addresses: readonly string[], enqueue: (action: Action) => void, intervalMs: number): void {
  const key = addresses.join(',')
  useEffect(() => {
    if (!key) return
    const list = key.split(',')
    const p = new Poller({
      intervalMs,
      timeoutMs: 15_000,
      run: async () => {
        enqueue({type: 'stakes', stakes: await ports.readStakes(list)})
      },
    })
    p.start()
    return () => p.stop()
  }, [ports, key, enqueue, intervalMs])
}

/** Polls the stream source, when there is one; without one the pane keeps its initial view. */
export function useStreamsFeed(source: StreamSource | undefined, enqueue: (action: Action) => void, intervalMs: number): void {
  useEffect(() => {
    if (!source) return
    let previous: StreamsView | undefined
    const p = new Poller({
      intervalMs,
      run: async (signal) => {
        previous = await readStreams(source, previous, signal)
        enqueue({type: 'streams', view: previous})
      },
    })
    p.start()
    return () => p.stop()
  }, [source, enqueue, intervalMs])
}

/** Asks for the specs of what is shown; a spec read bumps `specsVersion`. */
export function useSpecRequests(ports: DashboardPorts, refs: readonly SpecRef[], enqueue: (action: Action) => void): void {
  useEffect(() => ports.specs.onChange(() => enqueue({type: 'specs'})), [ports, enqueue])
  const key = refs.map((r) => r.specHash).join(',')
  useEffect(() => {
    if (refs.length > 0) ports.specs.request(refs)
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [ports, key])
}

/** Ticks every `ms` (time left, retry countdowns). */
export function useTicker(enqueue: (action: Action) => void, ms: number): void {
  useEffect(() => {
    const timer = setInterval(() => enqueue({type: 'tick', now: Date.now()}), ms)
    return () => clearInterval(timer)
  }, [enqueue, ms])
}

/** Keyboard input, only where stdin can be put in raw mode (else the app runs without keys). */
export function useKeyboard(handler: (input: string, key: Key) => void): boolean {
  const {isRawModeSupported} = useStdin()
  useInput(handler, {isActive: isRawModeSupported})
  return isRawModeSupported
}

/**
 * `ogpu tui`: the Ink app. State lives in one reducer; data comes from the hooks (batched per frame); each pane's
 * model comes from the same pure builders as `--once`/`--json` (src/dashboard/snapshot.ts), memoized on the state it
 * depends on, so a frame only rebuilds what changed and only the visible rows are ever built.
 */
import {useCallback, useMemo, useReducer, useRef} from 'react'
import {Box, useApp, useStdout, type Key} from 'ink'

import {auctionModel} from '../dashboard/auction.js'
import {pulseView, specsWanted} from '../dashboard/pulse.js'
import {eventLines, connectionView} from '../dashboard/snapshot.js'
import {walletView} from '../dashboard/wallet-view.js'
import type {DashboardPorts} from '../dashboard/session.js'
import {AuctionPane, Banner, ColorContext, Header, HelpLine, LinesPane, StreamsLine, TooSmall, walletLabel} from './components.js'
import {
  useBatchedDispatch,
  useKeyboard,
  useMarketFeed,
  useProviderStatusFeed,
  useSpecRequests,
  useStakesFeed,
  useStreamsFeed,
  useTerminalSize,
  useTicker,
  useWalletFeed,
  type TerminalSize,
} from './hooks.js'
import {computeLayout} from './layout.js'
import {
  eventPaneLines,
  pulseDetailLines,
  pulsePaneLines,
  streamPaneLines,
  taskDetailLines,
  taskPaneLines,
  taskTitle,
  walletDetailLines,
  walletPaneLines,
  type Line,
} from './lines.js'
import {chainNow, initialState, keyToActions, type NavContext, type PaneId, reducer, splitKeys} from './state.js'

export interface AppProps {
  ports: DashboardPorts
  /** Colours on (false under NO_COLOR). Defaults to true. */
  colors?: boolean
  /** Fixed terminal size (tests); defaults to stdout's, following resizes. */
  size?: TerminalSize
  /** Minimum milliseconds between data-driven redraws. Defaults to 100 (~10 a second). */
  frameMs?: number
  /** Called with each frame's model build time in ms (benchmarks). */
  onModel?: (ms: number) => void
}

const EVENTS_KEPT = 200

export function App(props: AppProps) {
  const {ports} = props
  const {exit} = useApp()
  const {stdout} = useStdout()
  const size = useTerminalSize(stdout, props.size)
  const [state, dispatch] = useReducer(reducer, {streams: ports.streams.initial}, initialState)
  const enqueue = useBatchedDispatch(dispatch, props.frameMs ?? 100)

  const refreshMarket = useMarketFeed(ports, enqueue, ports.refreshMs)
  const refreshWallet = useWalletFeed(ports, enqueue, Math.max(2000, ports.refreshMs))
  useProviderStatusFeed(ports, state.wallet.chain?.registered ? state.wallet.chain.endpoint : null, enqueue, 3000)
  useStreamsFeed(ports.streams.source, enqueue, Math.max(3000, ports.refreshMs))
  useTicker(enqueue, 1000)

  const now = chainNow(state)
  const connection = connectionView(state.connection, state.tick)
  const layout = computeLayout(size.columns, size.rows, {
    banner: state.connection.status === 'reconnecting',
    streams: state.streams.kind === 'live' ? Math.max(1, state.streams.streams.length) : 1,
  })

  const started = performance.now()
  const market = ports.market.state
  const auction = useMemo(
    () => auctionModel({market, now, specs: ports.specs, stakes: state.stakes}, {filter: state.filter, offset: state.offset, limit: layout.listRows, selectedId: state.selectedId}),
    [market, now, ports.specs, state.stakes, state.filter, state.offset, layout.listRows, state.selectedId, state.dataVersion, state.specsVersion],
  )
  const pulse = useMemo(() => pulseView({market, specs: ports.specs}), [market, ports.specs, state.dataVersion, state.specsVersion])
  const wallet = useMemo(
    () => (ports.wallet ? walletView({market, now, wallet: {...ports.wallet, chain: state.wallet.chain, chainError: state.wallet.error, status: state.wallet.status}}) : null),
    [market, now, ports.wallet, state.wallet, state.dataVersion],
  )
  const events = useMemo(() => eventLines(ports.events.recent(EVENTS_KEPT), EVENTS_KEPT), [ports.events, state.dataVersion])
  props.onModel?.(performance.now() - started)

  // Side data the panes need: specs of what is shown, stakes of the selected task's bidders.
  const shownIds = auction.view.rows.map((r) => r.id).join(',')
  const wanted = useMemo(
    () => specsWanted(market, [...auction.view.rows.map((r) => r.id), ...(auction.view.selectedId === null ? [] : [auction.view.selectedId])]),
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [market, shownIds, auction.view.selectedId, state.dataVersion],
  )
  useSpecRequests(ports, wanted, enqueue)
  const bidders = useMemo(() => auction.view.selected?.ladder.map((b) => b.provider) ?? [], [auction.view.selected?.id, auction.view.selected?.bids.length])
  useStakesFeed(ports, bidders, enqueue, 5000)

  // Lines of each pane, compact and full screen.
  const width = {left: layout.left, right: layout.right}
  const taskLines = useMemo(() => taskPaneLines(auction.view.selected, layout.taskRows - 1), [auction.view.selected, layout.taskRows])
  const walletLines = useMemo(() => walletPaneLines(wallet), [wallet])
  const pulseLines = useMemo(() => pulsePaneLines(pulse, width.right), [pulse, width.right])
  const eventLinesShown = useMemo(() => eventPaneLines(events), [events])
  const streamLines = useMemo(() => streamPaneLines(state.streams), [state.streams])
  const detailLines: Line[] = useMemo(() => {
    if (!state.detail) return []
    switch (state.focus) {
      case 'auction':
        return taskDetailLines(auction.view.selected)
      case 'wallet':
        return walletDetailLines(wallet)
      case 'pulse':
        return pulseDetailLines(pulse, layout.columns)
      case 'events':
        return eventPaneLines(events, true)
      case 'streams':
        return streamLines
    }
  }, [state.detail, state.focus, auction.view.selected, wallet, pulse, events, streamLines, layout.columns])

  // Keyboard: a pure map from keys to actions, fed the latest screen through a ref (one stable handler).
  const nav = useRef<NavContext>({order: [], listRows: 1, lines: {} as NavContext['lines']})
  nav.current = {
    order: auction.order,
    listRows: layout.listRows,
    lines: {
      auction: {total: auction.order.length, visible: layout.listRows},
      wallet: {total: walletLines.length, visible: layout.walletRows - 1},
      pulse: {total: pulseLines.length, visible: layout.pulseRows - 1},
      events: {total: eventLinesShown.length, visible: layout.eventRows - 1},
      streams: {total: streamLines.length, visible: layout.streamRows},
      detail: {total: detailLines.length, visible: layout.body + layout.streamRows - 1},
    },
  }
  const stateRef = useRef(state)
  stateRef.current = state
  const onKey = useCallback(
    (input: string, key: Key) => {
      // Keys that arrived together are applied one after the other, each on the state the previous one left.
      let current = stateRef.current
      for (const stroke of splitKeys(input, key)) {
        const result = keyToActions(current, stroke.input, stroke.key, nav.current)
        if (result.quit) return exit()
        if (result.refresh) {
          refreshMarket()
          refreshWallet()
        }
        for (const action of result.actions) {
          current = reducer(current, action)
          dispatch(action)
        }
      }
      stateRef.current = current
    },
    [exit, refreshMarket, refreshWallet],
  )
  const keys = useKeyboard(onKey)

  if (layout.tooSmall) return <TooSmall columns={size.columns} rows={size.rows} />
  const focused = (pane: PaneId) => state.focus === pane
  const status =
    connection.status === 'live' ? '● live' : connection.status === 'connecting' ? '◌ connecting…' : `◌ reconnecting… (${connection.attempt})`
  const body = state.detail ? (
    <LinesPane
      title={state.focus === 'auction' ? taskTitle(auction.view.selected) : `${paneName(state.focus)} (full screen)`}
      lines={detailLines}
      width={layout.columns}
      height={layout.body + layout.streamRows}
      focused
      scroll={state.scroll.detail}
    />
  ) : (
    <Box flexDirection={layout.split ? 'row' : 'column'} height={layout.body}>
      <Box flexDirection="column" width={layout.left}>
        <AuctionPane view={auction.view} width={layout.left} listRows={layout.listRows} focused={focused('auction')} />
        <LinesPane title={taskTitle(auction.view.selected)} lines={taskLines} width={layout.left} height={layout.taskRows} focused={false} />
      </Box>
      {layout.split ? <Box width={1} /> : null}
      <Box flexDirection="column" width={layout.right}>
        <LinesPane title={`My wallet${ports.wallet?.name ? ` · ${ports.wallet.name}` : ''}`} lines={walletLines} width={layout.right} height={layout.walletRows} focused={focused('wallet')} scroll={state.scroll.wallet} />
        <LinesPane title="Market pulse · winning bids" lines={pulseLines} width={layout.right} height={layout.pulseRows} focused={focused('pulse')} scroll={state.scroll.pulse} />
        <LinesPane title="Events" lines={eventLinesShown} width={layout.right} height={layout.eventRows} focused={focused('events')} scroll={state.scroll.events} />
      </Box>
    </Box>
  )
  return (
    <ColorContext.Provider value={props.colors ?? true}>
      <Box flexDirection="column" width={layout.columns} height={layout.height}>
        <Header
          width={layout.columns}
          network={ports.network.name}
          chainId={ports.network.chainId}
          block={market.cursor}
          head={state.clock?.block ?? null}
          status={status}
          tone={connection.status === 'live' ? 'good' : 'warn'}
          wallet={walletLabel(ports.wallet)}
        />
        {layout.banner ? (
          <Banner
            width={layout.columns}
            text={` reconnecting… attempt ${connection.attempt}${connection.retryInSeconds !== null ? `, retry in ${connection.retryInSeconds}s` : ''} · ${connection.lastError ?? 'no answer'} · showing block ${market.cursor} · ${ports.network.rpcUrl}`}
          />
        ) : null}
        {body}
        {state.detail ? null : <StreamsLine lines={streamLines} width={layout.columns} height={layout.streamRows} focused={focused('streams')} />}
        <HelpLine width={layout.columns} keys={keys} editing={state.editing} detail={state.detail} />
      </Box>
    </ColorContext.Provider>
  )
}

function paneName(pane: PaneId): string {
  return {auction: 'Auction book', wallet: 'My wallet', pulse: 'Market pulse', events: 'Events', streams: 'Streams'}[pane]
}

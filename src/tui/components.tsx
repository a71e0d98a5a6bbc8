/**
 * The TUI's components: small memoized functions of props. Every line is cut to its pane's width (never wrapped),
 * so the frame keeps its shape at any terminal size, and a line whose props did not change is not re-rendered.
 */
import {createContext, memo, useContext} from 'react'
import {Box, Text} from 'ink'

import {clip, fit, shortAddress} from '../dashboard/format.js'
import type {AuctionRow, AuctionView} from '../dashboard/auction.js'
import {auctionHeader, auctionRowText, type Line, rowTone, type Tone} from './lines.js'

/** false under NO_COLOR (or TERM=dumb): no colour at all, only bold, dim and inverse. */
export const ColorContext = createContext(true)

const TONES: Record<Tone, string> = {accent: 'cyan', good: 'green', warn: 'yellow', bad: 'red', muted: 'gray'}

function toneProps(colors: boolean, tone?: Tone): {color?: string; dimColor?: boolean} {
  if (!tone) return {}
  if (!colors) return tone === 'muted' ? {dimColor: true} : {}
  return {color: TONES[tone]}
}

export const LineText = memo(function LineText(props: {text: string; width: number; tone?: Tone; bold?: boolean; inverse?: boolean}) {
  const colors = useContext(ColorContext)
  return (
    <Text wrap="truncate" bold={props.bold} inverse={props.inverse} {...toneProps(colors, props.tone)}>
      {props.inverse ? fit(props.text, props.width) : clip(props.text, props.width) || ' '}
    </Text>
  )
})

export const PaneTitle = memo(function PaneTitle(props: {title: string; width: number; focused: boolean}) {
  const colors = useContext(ColorContext)
  return (
    <Text wrap="truncate" bold inverse={props.focused} color={colors ? 'cyan' : undefined}>
      {fit(`${props.focused ? '▸' : ' '}${props.title}`, props.width)}
    </Text>
  )
})

/** A titled pane of lines, showing `height − 1` of them from `scroll`. */
export const LinesPane = memo(function LinesPane(props: {title: string; lines: readonly Line[]; width: number; height: number; focused: boolean; scroll?: number}) {
  const visible = Math.max(0, props.height - 1)
  const from = Math.max(0, Math.min(props.scroll ?? 0, props.lines.length - visible))
  const shown = props.lines.slice(from, from + visible)
  const more = props.lines.length - from - shown.length
  const title = more > 0 || from > 0 ? `${props.title} (${from + 1}-${from + shown.length}/${props.lines.length})` : props.title
  return (
    <Box flexDirection="column" width={props.width} height={props.height} overflow="hidden">
      <PaneTitle title={title} width={props.width} focused={props.focused} />
      {shown.map((line, i) => (
        <LineText key={from + i} text={line.text} tone={line.tone} bold={line.bold} width={props.width} />
      ))}
    </Box>
  )
})

const TaskRow = memo(function TaskRow(props: {text: string; width: number; selected: boolean; focused: boolean; tone?: Tone}) {
  return (
    <LineText
      text={`${props.selected ? '›' : ' '}${props.text}`}
      width={props.width}
      tone={props.selected && props.focused ? undefined : props.tone}
      bold={props.selected}
      inverse={props.selected && props.focused}
    />
  )
})

function auctionTitle(view: AuctionView, shown: number): string {
  const range = view.total > shown ? ` · ${view.offset + 1}-${view.offset + shown} of ${view.total}` : ` · ${view.total} task(s)`
  return `Auction book · ${view.filter}${range} · open ${view.counts.open}`
}

/** The auction book: only the visible rows exist (the view holds `listRows` of them, whatever the total). */
export const AuctionPane = memo(function AuctionPane(props: {view: AuctionView; width: number; listRows: number; focused: boolean}) {
  const {view, width} = props
  const rows: AuctionRow[] = view.rows.slice(0, props.listRows)
  return (
    <Box flexDirection="column" width={width} height={props.listRows + 2} overflow="hidden">
      <PaneTitle title={auctionTitle(view, rows.length)} width={width} focused={props.focused} />
      <LineText text={auctionHeader(width)} width={width} tone="muted" />
      {rows.length === 0 ? <LineText text=" no tasks match the filter (/ to change it)" width={width} tone="muted" /> : null}
      {rows.map((row) => (
        <TaskRow key={row.id} text={auctionRowText(row, width)} width={width} selected={row.id === view.selectedId} focused={props.focused} tone={rowTone(row)} />
      ))}
    </Box>
  )
})

export const Header = memo(function Header(props: {width: number; network: string; chainId: number; block: number; head: number | null; status: string; tone: Tone; wallet: string}) {
  const colors = useContext(ColorContext)
  const sync = props.head !== null && props.head > props.block + 1 ? ` · syncing ${props.block}/${props.head}` : ` · block ${props.block}`
  const left = ` ogpu · ${props.network} (${props.chainId})${sync} · `
  const right = props.wallet ? `${props.wallet} ` : ''
  const room = Math.max(0, props.width - left.length - props.status.length - right.length)
  return (
    <Text wrap="truncate" bold>
      {clip(left, props.width)}
      <Text {...toneProps(colors, props.tone)}>{props.status}</Text>
      {room > 0 ? `${' '.repeat(room)}${right}` : ''}
    </Text>
  )
})

export const Banner = memo(function Banner(props: {width: number; text: string}) {
  const colors = useContext(ColorContext)
  return (
    <Text wrap="truncate" inverse bold color={colors ? 'yellow' : undefined}>
      {fit(props.text, props.width)}
    </Text>
  )
})

export const StreamsLine = memo(function StreamsLine(props: {lines: readonly Line[]; width: number; height: number; focused: boolean}) {
  const title = 'Streams │ '
  const first = props.lines[0]
  return (
    <Box flexDirection="column" width={props.width} height={props.height} overflow="hidden">
      <Text wrap="truncate">
        <PaneTitle title={title} width={title.length + 1} focused={props.focused} />
        <LineText text={first?.text ?? ''} tone={first?.tone} width={props.width - title.length - 1} />
      </Text>
      {props.lines.slice(1, props.height).map((line, i) => (
        <LineText key={i} text={`${' '.repeat(title.length + 1)}${line.text}`} tone={line.tone} width={props.width} />
      ))}
    </Box>
  )
})

export const HelpLine = memo(function HelpLine(props: {width: number; keys: boolean; editing: string | null; detail: boolean}) {
  const colors = useContext(ColorContext)
  if (props.editing !== null)
    return (
      <Text wrap="truncate">
        <Text bold color={colors ? 'cyan' : undefined}>
          {' / filter: '}
        </Text>
        {props.editing}
        <Text inverse> </Text>
        <Text dimColor>{clip('  ⏎ apply · esc cancel · open assigned ended all, or a model', Math.max(0, props.width - 13 - props.editing.length))}</Text>
      </Text>
    )
  const text = !props.keys
    ? ' keyboard unavailable (stdin is not a terminal) · Ctrl-C quits'
    : props.detail
      ? ' ↑↓ jk scroll · PgUp/PgDn page · esc/⏎ back · tab pane · q quit'
      : ' ↑↓ jk move · tab pane · ⏎ detail · / filter · r refresh · q quit'
  return (
    <Text wrap="truncate" dimColor>
      {clip(text, props.width)}
    </Text>
  )
})

export const TooSmall = memo(function TooSmall(props: {columns: number; rows: number}) {
  return <Text wrap="truncate">{`ogpu tui needs at least 50×12 (this terminal is ${props.columns}×${props.rows}) · q quits`}</Text>
})

export const walletLabel = (wallet: {name: string | null; address: string} | null): string => (wallet ? `${wallet.name ?? ''} ${shortAddress(wallet.address)}`.trim() : '')

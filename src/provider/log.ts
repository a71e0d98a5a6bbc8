/**
 * The daemon's log: one line per event, human-readable by default (`2025-01-01T12:00:00.000Z INFO  bid  task 3 ...`)
 * or JSON lines (`{"time", "level", "event", "msg", ...fields}`) with --log-format json. Fields are facts (ids,
 * amounts, tx hashes); secrets (keys, passwords, salts of unrevealed votes) are never passed to it, and fields named
 * like one are dropped as a safety net.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'
export type LogFormat = 'text' | 'json'
export type LogFields = Record<string, unknown>

export interface Logger {
  debug(event: string, message: string, fields?: LogFields): void
  info(event: string, message: string, fields?: LogFields): void
  warn(event: string, message: string, fields?: LogFields): void
  error(event: string, message: string, fields?: LogFields): void
}

const SECRET = /salt|secret|password|private|mnemonic|seed phrase/i
const LEVELS: Record<LogLevel, number> = {debug: 10, info: 20, warn: 30, error: 40}

function clean(fields: LogFields | undefined): LogFields {
  const out: LogFields = {}
  for (const [k, v] of Object.entries(fields ?? {})) {
    if (SECRET.test(k) || v === undefined) continue
    out[k] = typeof v === 'bigint' ? v.toString() : v
  }
  return out
}

export function createLogger(options: {format?: LogFormat; level?: LogLevel; write?: (line: string) => void} = {}): Logger {
  const format = options.format ?? 'text'
  const min = LEVELS[options.level ?? 'info']
  const write = options.write ?? ((line: string) => process.stdout.write(`${line}\n`))
  const emit = (level: LogLevel, event: string, message: string, fields?: LogFields) => {
    if (LEVELS[level] < min) return
    const time = new Date().toISOString()
    const data = clean(fields)
    if (format === 'json') {
      write(JSON.stringify({time, level, event, msg: message, ...data}))
      return
    }
    const extra = Object.entries(data)
      .filter(([k]) => !message.includes(String(data[k])) || k === 'tx')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ')
    write(`${time} ${level.toUpperCase().padEnd(5)} ${event.padEnd(9)} ${message}${extra ? `  ${extra}` : ''}`)
  }
  return {
    debug: (e, m, f) => emit('debug', e, m, f),
    info: (e, m, f) => emit('info', e, m, f),
    warn: (e, m, f) => emit('warn', e, m, f),
    error: (e, m, f) => emit('error', e, m, f),
  }
}

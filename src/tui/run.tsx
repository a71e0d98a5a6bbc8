/**
 * Runs the Ink app full screen (the terminal's alternate screen, restored on exit) until the user quits. Imported
 * lazily by `ogpu tui`, so that ink and react load only for this command.
 */
import {render} from 'ink'

import type {DashboardPorts} from '../dashboard/session.js'
import {App} from './app.js'
import {ScreenStream} from './screen.js'

export interface RunOptions {
  colors: boolean
  stdout?: NodeJS.WriteStream
  stdin?: NodeJS.ReadStream
}

const ALT_SCREEN_ON = '\u001B[?1049h\u001B[H'
const ALT_SCREEN_OFF = '\u001B[?1049l'

export async function runTui(ports: DashboardPorts, options: RunOptions): Promise<void> {
  const stdout = options.stdout ?? process.stdout
  const stdin = options.stdin ?? process.stdin
  stdout.write(ALT_SCREEN_ON)
  const screen = new ScreenStream(stdout)
  const instance = render(<App ports={ports} colors={options.colors} />, {
    stdout: screen as unknown as NodeJS.WriteStream,
    stdin,
    exitOnCtrlC: true,
    patchConsole: true,
    // ~10 frames a second at most; the screen stream rewrites only the lines that changed: smooth over SSH.
    maxFps: 10,
  })
  // Without a raw-mode stdin ink cannot see Ctrl-C as a key: quit on the signals instead.
  const quit = () => instance.unmount()
  process.once('SIGINT', quit)
  process.once('SIGTERM', quit)
  process.once('SIGHUP', quit)
  try {
    await instance.waitUntilExit()
  } finally {
    process.off('SIGINT', quit)
    process.off('SIGTERM', quit)
    process.off('SIGHUP', quit)
    instance.cleanup()
    screen.dispose()
    stdout.write(ALT_SCREEN_OFF)
  }
}

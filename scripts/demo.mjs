#!/usr/bin/env node
// npm run demo: the whole ogpu network on this machine (devnet, three providers, a batch task), then the TUI on it.
//   npm run demo                      TUI; q or Ctrl-C stops everything
//   npm run demo -- --ci [--json]     headless: waits for the batch task, prints a report, stops everything
//   npm run demo -- --detach [--json] leaves it running in the background and prints the RPC URL, ids and wallets
//   npm run demo -- --stop            stops a detached demo
// Other options: --dir DIR (default <ogpu data dir>/demo), --port N (devnet; default 8545 or a free one),
// --block-time S (default 1), --timeout S (--ci; default 600).
// The work is in src/demo (built to dist/demo); this script builds first when needed (the build is incremental).
import {spawnSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {parseArgs} from 'node:util'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
let parsed
try {
  parsed = parseArgs({
    options: {
      ci: {type: 'boolean', default: false},
      detach: {type: 'boolean', default: false},
      stop: {type: 'boolean', default: false},
      json: {type: 'boolean', default: false},
      dir: {type: 'string'},
      port: {type: 'string'},
      'block-time': {type: 'string'},
      timeout: {type: 'string'},
      help: {type: 'boolean', short: 'h', default: false},
    },
  }).values
} catch (error) {
  process.stderr.write(`Error: ${error.message}\nHint: npm run demo -- --help\n`)
  process.exit(2)
}
if (parsed.help) {
  process.stdout.write(readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1, 9).map((l) => l.replace(/^\/\/ ?/, '')).join('\n') + '\n')
  process.exit(0)
}
const modes = ['ci', 'detach', 'stop'].filter((m) => parsed[m])
if (modes.length > 1) {
  process.stderr.write(`Error: --${modes.join(' and --')} do not go together.\nHint: pick one: --ci, --detach or --stop.\n`)
  process.exit(2)
}
const number = (name) => {
  if (parsed[name] === undefined) return undefined
  const value = Number(parsed[name])
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`Error: --${name} ${parsed[name]} is not a whole number.\n`)
    process.exit(2)
  }
  return value
}
const port = number('port')
const blockTime = number('block-time')
const timeoutSeconds = number('timeout')

// Build (contracts, TypeScript, manifest) when the sources are newer than the outputs; its output goes to stderr so
// that stdout carries only the demo's own output (JSON with --json).
const build = spawnSync(process.execPath, [join(root, 'scripts', 'build.mjs')], {cwd: root, stdio: ['ignore', 2, 2]})
if (build.status !== 0) {
  process.stderr.write('Error: the build failed (see above).\n')
  process.exit(1)
}
const {runDemo} = await import(pathToFileURL(join(root, 'dist', 'demo', 'main.js')).href)
const {version} = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
process.exitCode = await runDemo({
  mode: modes[0] === undefined ? 'interactive' : modes[0],
  json: parsed.json,
  dir: parsed.dir,
  root,
  version,
  port,
  blockTime,
  timeoutSeconds,
})

#!/usr/bin/env node
// Cold start of the `ogpu` binary: wall time of `ogpu --help` and of a few commands' --help, each a fresh process.
// Target: `ogpu --help` under 250 ms on this machine (2 cores).
import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const home = mkdtempSync(join(tmpdir(), 'ogpu-bench-'))
const env = {...process.env, OGPU_CONFIG_DIR: join(home, 'config'), NO_COLOR: '1'}
const RUNS = Number(process.env.BENCH_RUNS ?? 15)

function measure(args) {
  const times = []
  for (let i = 0; i < RUNS + 2; i++) {
    const start = process.hrtime.bigint()
    const r = spawnSync(process.execPath, [join(root, 'bin/run.js'), ...args], {env, stdio: 'ignore'})
    const ms = Number(process.hrtime.bigint() - start) / 1e6
    if (r.status !== 0) throw new Error(`ogpu ${args.join(' ')} exited ${r.status}`)
    if (i >= 2) times.push(ms) // two warm-up runs fill the OS file cache
  }
  times.sort((a, b) => a - b)
  const pct = (p) => times[Math.min(times.length - 1, Math.floor((p / 100) * times.length))]
  return {median: pct(50), p90: pct(90), min: times[0]}
}

const cases = [
  ['ogpu --help', ['--help']],
  ['ogpu stake --help', ['stake', '--help']],
  ['ogpu devnet start --help', ['devnet', 'start', '--help']],
  ['ogpu config list', ['config', 'list']],
  ['node -e 0 (floor)', null],
]
const rows = []
for (const [label, args] of cases) {
  if (args) rows.push([label, measure(args)])
  else {
    const times = []
    for (let i = 0; i < RUNS; i++) {
      const start = process.hrtime.bigint()
      spawnSync(process.execPath, ['-e', '0'])
      times.push(Number(process.hrtime.bigint() - start) / 1e6)
    }
    times.sort((a, b) => a - b)
    rows.push([label, {median: times[Math.floor(times.length / 2)], p90: times[Math.floor(times.length * 0.9)], min: times[0]}])
  }
}
rmSync(home, {recursive: true, force: true})
const w = Math.max(...rows.map(([l]) => l.length))
console.log(`${'command'.padEnd(w)}  median ms  p90 ms  min ms   (${RUNS} runs each)`)
for (const [label, t] of rows) console.log(`${label.padEnd(w)}  ${t.median.toFixed(0).padStart(9)}  ${t.p90.toFixed(0).padStart(6)}  ${t.min.toFixed(0).padStart(6)}`)
const help = rows[0][1].median
console.log(`\ntarget: ogpu --help < 250 ms → ${help < 250 ? 'met' : 'NOT met'} (${help.toFixed(0)} ms)`)

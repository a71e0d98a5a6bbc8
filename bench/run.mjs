#!/usr/bin/env node
// `npm run bench`: builds, then runs every bench/*.bench.{mjs,ts} (or the ones named) one after another.
// Each prints its own table. Benchmarks never run in `npm test`.
import {spawnSync} from 'node:child_process'
import {readdirSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const only = process.argv.slice(2)
const build = spawnSync(process.execPath, ['scripts/build.mjs'], {cwd: root, stdio: 'inherit'})
if (build.status !== 0) process.exit(build.status ?? 1)
const files = readdirSync(join(root, 'bench'))
  .filter((f) => /\.bench\.(mjs|ts)$/.test(f))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort()
let failed = 0
for (const file of files) {
  console.log(`\n## ${file}\n`)
  const args = file.endsWith('.ts') ? [join(root, 'node_modules/tsx/dist/cli.mjs'), join('bench', file)] : [join('bench', file)]
  const result = spawnSync(process.execPath, args, {cwd: root, stdio: 'inherit'})
  if (result.status !== 0) failed++
}
process.exit(failed ? 1 : 0)

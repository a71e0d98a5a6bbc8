#!/usr/bin/env node
// The whole build: contract artifacts (forge + solc-js, offline), TypeScript, and the oclif manifest.
// Each step is skipped when its outputs are newer than its inputs, so a second `npm run build` is quick.
import {execFileSync} from 'node:child_process'
import {existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const node = process.execPath
const run = (args, opts = {}) => execFileSync(node, args, {cwd: root, stdio: 'inherit', ...opts})

function newest(dir, filter = () => true) {
  if (!existsSync(dir)) return 0
  let max = 0
  for (const entry of readdirSync(dir, {withFileTypes: true})) {
    const p = join(dir, entry.name)
    if (entry.isDirectory()) max = Math.max(max, newest(p, filter))
    else if (filter(p)) max = Math.max(max, statSync(p).mtimeMs)
  }
  return max
}
const mtime = (p) => (existsSync(p) ? statSync(p).mtimeMs : 0)
const force = process.argv.includes('--force')

// 1. Contracts → artifacts/*.json
const contractsIn = Math.max(newest(join(root, 'contracts/src')), mtime(join(root, 'contracts/foundry.toml')))
if (force || contractsIn > mtime(join(root, 'artifacts/errors.json'))) run(['scripts/build-contracts.mjs'])
// 1b. Artifacts → typed bindings (src/chain/contracts/generated, gitignored): the TypeScript below compiles against them.
const bindings = join(root, 'src/chain/contracts/generated/reverts.ts')
if (force || mtime(join(root, 'artifacts/errors.json')) > mtime(bindings)) run(['scripts/typegen.mjs'])

// 2. TypeScript → dist/ (a clean build, so no stale command survives a rename)
const isSource = (p) => /\.tsx?$/.test(p) && !/\.test\.tsx?$/.test(p)
const tsIn = Math.max(newest(join(root, 'src'), isSource), mtime(join(root, 'tsconfig.json')), mtime(join(root, 'package.json')))
const tsOut = mtime(join(root, 'dist/.built'))
if (force || tsIn > tsOut) {
  rmSync(join(root, 'dist'), {recursive: true, force: true})
  run([join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'])
  // 3. oclif.manifest.json (fast --help; CI checks it is committed and current)
  try {
    execFileSync(node, [join(root, 'node_modules/oclif/bin/run.js'), 'manifest'], {cwd: root, stdio: 'pipe'})
    // oclif lists commands in directory-read order, which differs between machines: sort them so the committed
    // manifest is the same wherever it is built.
    const manifestPath = join(root, 'oclif.manifest.json')
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'))
    manifest.commands = Object.fromEntries(Object.keys(manifest.commands).sort().map((id) => [id, manifest.commands[id]]))
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`)
  } catch (error) {
    process.stderr.write(String(error.stderr ?? error))
    process.exit(1)
  }
  writeFileSync(join(root, 'dist/.built'), new Date().toISOString())
}
console.log('build: artifacts, dist/ and oclif.manifest.json are up to date')

#!/usr/bin/env node
// The one test command (`npm test`): build, then every suite — forge (Solidity), the gas snapshot check, vitest
// (unit + e2e) — and a last line with the totals of all suites: "N passed, N failed".
// Extra arguments go to vitest (e.g. `npm test -- test/e2e/wallet.test.ts`).
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const node = process.execPath
const vitestArgs = process.argv.slice(2)

function run(cmd, args, {capture = false} = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {cwd: root, stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit']})
    let out = ''
    if (capture)
      child.stdout.on('data', (d) => {
        out += d
        process.stdout.write(d)
      })
    child.on('close', (code) => resolve({code: code ?? 1, out}))
  })
}

const totals = {passed: 0, failed: 0, skipped: 0}
const problems = []
const started = Date.now()

// 1. Build (contracts → artifacts, TypeScript → dist, oclif manifest).
const build = await run(node, ['scripts/build.mjs'])
if (build.code !== 0) {
  console.log('build failed')
  console.log(`0 passed, 1 failed`)
  process.exit(1)
}

// 2. The committed oclif.manifest.json and command reference (README.md, docs/commands) must match the build.
if (existsSync(join(root, '.git'))) {
  const diff = await run('git', ['diff', '--exit-code', '--stat', '--', 'oclif.manifest.json'])
  const tracked = await run('git', ['ls-files', '--error-unmatch', 'oclif.manifest.json'], {capture: true})
  if (diff.code !== 0 || tracked.code !== 0) {
    problems.push('oclif.manifest.json is stale or not committed: run `npm run build` and commit it')
    totals.failed++
  } else totals.passed++
  const docs = await run(node, [join(root, 'node_modules/oclif/bin/run.js'), 'readme', '--multi', '--output-dir', 'docs/commands', '--no-source-links'], {capture: true})
  const docsDiff = await run('git', ['diff', '--exit-code', '--stat', '--', 'README.md', 'docs/commands'])
  const untracked = await run('git', ['ls-files', '--others', '--exclude-standard', '--', 'docs/commands'], {capture: true})
  if (docs.code !== 0 || docsDiff.code !== 0 || untracked.out.trim() !== '') {
    problems.push('the command reference is stale: run `npm run docs` and commit README.md and docs/commands')
    totals.failed++
  } else totals.passed++
}

// 2b. docs/errors.md must match the error-code registry (src/errors/codes.ts).
const errorsDoc = await run(node, ['scripts/errors-doc.mjs', '--check'])
if (errorsDoc.code !== 0) {
  problems.push('docs/errors.md is stale: run `node scripts/errors-doc.mjs` and commit it')
  totals.failed++
} else totals.passed++

// 3. Solidity: forge tests (unit, fuzz, invariant).
if (vitestArgs.length === 0) {
  const forge = await run(node, ['scripts/forge.mjs', 'test'], {capture: true})
  const summary = /(\d+) tests passed, (\d+) failed, (\d+) skipped/.exec(forge.out)
  if (summary) {
    totals.passed += Number(summary[1])
    totals.failed += Number(summary[2])
    totals.skipped += Number(summary[3])
  }
  if (forge.code !== 0 || !summary) {
    problems.push('forge test failed')
    if (!summary) totals.failed++
  }
  // 4. Gas snapshot must not drift without being updated (`npm run snapshot`).
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  if (pkg.scripts['snapshot:check']) {
    const snap = await run('npm', ['run', '--silent', 'snapshot:check'])
    if (snap.code === 0) totals.passed++
    else {
      totals.failed++
      problems.push('gas snapshot drifted: run `npm run snapshot` and commit it if the change is intended')
    }
  }
}

// 5. vitest: unit and e2e projects.
const reportDir = mkdtempSync(join(tmpdir(), 'ogpu-vitest-'))
const report = join(reportDir, 'report.json')
const vitest = await run(node, [join(root, 'node_modules/vitest/vitest.mjs'), 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...vitestArgs])
if (existsSync(report)) {
  const json = JSON.parse(readFileSync(report, 'utf8'))
  totals.passed += json.numPassedTests
  totals.failed += json.numFailedTests
  totals.skipped += json.numPendingTests + json.numTodoTests
  if (json.numTotalTests === 0) problems.push('vitest ran no test')
} else {
  totals.failed++
  problems.push('vitest produced no report')
}
if (vitest.code !== 0) problems.push('vitest failed')
rmSync(reportDir, {recursive: true, force: true})

for (const p of problems) console.log(`✗ ${p}`)
console.log(`(all suites in ${Math.round((Date.now() - started) / 1000)} s)`)
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`)
process.exit(problems.length > 0 || totals.failed > 0 ? 1 : 0)

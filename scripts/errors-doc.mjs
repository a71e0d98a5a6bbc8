#!/usr/bin/env node
// Writes docs/errors.md from the error-code registry (src/errors/codes.ts) and the contracts' custom errors (the
// REVERT_ codes), as built in dist/ (run `node scripts/build.mjs` first). With --check it writes nothing and exits 1
// when docs/errors.md is not what it would write (scripts/test.mjs runs it so).
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const target = join(root, 'docs/errors.md')
const built = (path) => {
  const file = join(root, 'dist', path)
  if (!existsSync(file)) {
    console.error(`errors-doc: ${file} is missing: run \`node scripts/build.mjs\` first`)
    process.exit(1)
  }
  return import(pathToFileURL(file).href)
}
const {ERROR_CODES, ExitCode, REVERT_CODE_PREFIX} = await built('errors/index.js')
const {ERRORS_ABI} = await built('chain/contracts/generated/reverts.js')

const EXIT = {bug: ExitCode.Bug, user: ExitCode.User, external: ExitCode.External, cancelled: ExitCode.Cancelled}
const cell = (text) => text.replaceAll('|', '\\|')
const signature = (fragment) => `${fragment.name}(${fragment.inputs.map((i) => `${i.type}${i.name ? ` ${i.name}` : ''}`).join(', ')})`

const lines = [
  '# Error codes',
  '',
  '<!-- Written by `node scripts/errors-doc.mjs` from src/errors/codes.ts and the contract ABIs. Do not edit. -->',
  '',
  'Every error ogpu reports has a stable code, printed with `--json` as `{"error": {"code", "kind", "message", "hint", "details"}}`.',
  'The kind fixes the exit code: `user` 2 (the hint says what to do), `external` 3 (something outside ogpu failed),',
  '`bug` 1 (please report it), `cancelled` 130. The servers answer errors in the OpenAI shape with their own lower-case',
  'wire codes (docs/protocol.md); those are not listed here.',
  '',
  '| Code | Kind | Exit | Meaning |',
  '| --- | --- | --- | --- |',
  ...Object.entries(ERROR_CODES)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, {kind, meaning}]) => `| \`${code}\` | ${kind} | ${EXIT[kind]} | ${cell(meaning)} |`),
  '',
  '## Contract reverts',
  '',
  `A transaction or call a contract refused with a custom error is reported as \`${REVERT_CODE_PREFIX}<Name>\`, kind \`user\`, exit ${ExitCode.User};`,
  '`details` holds `revert` (the name) and `args` (its decoded arguments), and the message explains it where ogpu knows how.',
  '',
  '| Code | Custom error |',
  '| --- | --- |',
  ...ERRORS_ABI.filter((f) => f.type === 'error')
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((f) => `| \`${REVERT_CODE_PREFIX}${f.name}\` | \`${cell(signature(f))}\` |`),
  '',
]
const text = lines.join('\n')

if (process.argv.includes('--check')) {
  const current = existsSync(target) ? readFileSync(target, 'utf8') : ''
  if (current !== text) {
    console.error('docs/errors.md is stale: run `node scripts/errors-doc.mjs` and commit it')
    process.exit(1)
  }
} else {
  writeFileSync(target, text)
  console.log(`errors-doc: ${Object.keys(ERROR_CODES).length} codes and ${ERRORS_ABI.length} reverts -> docs/errors.md`)
}

/**
 * The typed contract layer catches, at build time, a use of a function, event, struct field or revert name that the
 * ABIs lack. This compiles small programs against src/chain with the TypeScript compiler and reads its diagnostics.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import ts from 'typescript'
import {afterAll, describe, expect, it} from 'vitest'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')
const dir = mkdtempSync(join(root, 'test', 'unit', 'chain', '.typecheck-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** Type errors of `body` compiled as a module next to the tests (codes and messages). */
function typeErrors(body: string): string[] {
  const file = join(dir, `case-${Math.random().toString(36).slice(2)}.ts`)
  writeFileSync(file, body)
  const config = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.json'), {}, {...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {}})!
  const program = ts.createProgram([file], {...config.options, noEmit: true, rootDir: root})
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => `TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`)
}

const prelude = `
import type {TaskMarket} from '../../../../src/chain/contracts/task-market.js'
import type {StreamMarket} from '../../../../src/chain/contracts/stream-market.js'
import {revertOf} from '../../../../src/chain/errors.js'
declare const market: TaskMarket
declare const streams: StreamMarket
export {}
`

describe('typed contract bindings', () => {
  it('accept what the ABIs declare', () => {
    expect(
      typeErrors(`${prelude}
        async function ok() {
          await market.bid(1, 10n)
          const task = await market.getTask(1)
          const n: bigint = task.itemCount
          const s = await streams.getStream(1n)
          const client: string = s.client
          market.getEvent('BidPlaced')
          if (revertOf(new Error()) === 'TaskMarketUnknownTask') return [n, client]
        }
        void ok`),
    ).toEqual([])
  }, 60_000)

  it('refuse a function, an event, a struct field and a revert name that no ABI has', () => {
    const errors = typeErrors(`${prelude}
      async function bad() {
        await market.bidd(1, 10n)
        const task = await market.getTask(1)
        void task.itemCont
        market.getEvent('BidPlacd')
        if (revertOf(new Error()) === 'TaskMarketUnknownTsk') return
      }
      void bad`)
    // TS2339 / TS2551: property does not exist (2551 when the compiler also suggests the right name).
    expect(errors.some((e) => /^TS(2339|2551)/.test(e) && e.includes("'bidd'"))).toBe(true)
    expect(errors.some((e) => /^TS(2339|2551)/.test(e) && e.includes("'itemCont'"))).toBe(true)
    expect(errors.some((e) => e.startsWith('TS2769') && e.includes('"BidPlacd"'))).toBe(true)
    expect(errors.some((e) => e.startsWith('TS2367') && e.includes('"TaskMarketUnknownTsk"'))).toBe(true)
  }, 60_000)
})

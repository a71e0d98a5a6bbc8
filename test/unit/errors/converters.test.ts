/**
 * The converters are registered once, in the CLI's handler: a command that never imports src/cli/chain.ts (this one
 * imports nothing of src/chain) still reports a contract revert by name, with --json and the user exit code.
 */
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {Config} from '@oclif/core'
import {Interface, makeError} from 'ethers'
import {describe, expect, it} from 'vitest'

import {BaseCommand} from '../../../src/cli/base-command.js'
import {errorConverters, toCliError} from '../../../src/cli/errors.js'
import {ERRORS_ABI} from '../../../src/chain/contracts/generated/reverts.js'
import {toOgpuError} from '../../../src/errors/index.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..')

/** What ethers throws for an eth_call that reverted with TaskMarketUnknownTask(7). */
const unknownTask = () =>
  makeError('execution reverted (unknown custom error)', 'CALL_EXCEPTION', {
    action: 'call',
    data: new Interface(ERRORS_ABI).encodeErrorResult('TaskMarketUnknownTask', [7]),
    reason: null,
    transaction: {to: '0x0000000000000000000000000000000000000001', data: '0x'},
    invocation: null,
    revert: null,
  })

class Fails extends BaseCommand<typeof Fails> {
  static override description = 'Fails with a chain error.'
  readonly printed: unknown[] = []
  override logJson(json: unknown): void {
    this.printed.push(json)
  }

  async run(): Promise<void> {
    throw unknownTask()
  }
}

describe('the CLI error converters', () => {
  it('decode a revert without the command importing src/cli/chain.ts', async () => {
    const error = await toCliError(unknownTask())
    expect(error.toJSON()).toEqual({
      code: 'REVERT_TaskMarketUnknownTask',
      kind: 'user',
      message: 'There is no task 7.',
      hint: 'Run `ogpu task list` to see the tasks.',
      details: {revert: 'TaskMarketUnknownTask', args: ['7']},
    })
    expect(error.exitCode).toBe(2)
  })

  it('are the chain converter, loaded once; without them the same error is a bug', async () => {
    const converters = await errorConverters()
    expect(converters).toHaveLength(1)
    expect(await errorConverters()).toBe(converters)
    expect(toOgpuError(unknownTask()).kind).toBe('bug')
  })

  it('are applied by the base command: --json prints the decoded revert and the command exits 2', async () => {
    const command = new Fails(['--json'], await Config.load(root))
    await expect(command._run()).rejects.toMatchObject({oclif: {exit: 2}})
    expect(command.printed).toEqual([
      {
        error: {
          code: 'REVERT_TaskMarketUnknownTask',
          kind: 'user',
          message: 'There is no task 7.',
          hint: 'Run `ogpu task list` to see the tasks.',
          details: {revert: 'TaskMarketUnknownTask', args: ['7']},
        },
      },
    ])
  })
})

import {describe, expect, it} from 'vitest'

import {renderTask} from '../../../src/cli/render-task.js'
import {taskJson} from '../../../src/market/view.js'
import {addr, makeTask} from '../tui/fixtures.js'

describe('task show: the council drawn from the pool', () => {
  it('shows a council that is not seated yet as pending, with its draw block', () => {
    const task = {...makeTask(1, {status: 'assigned', bids: [5, 6]}), executor: addr(10), price: 5n, council: [], councilSeated: false, drawBlock: 42}
    const json = taskJson(task)
    expect(json).toMatchObject({council: [], councilSeated: false, drawBlock: 42})
    expect(renderTask(json)).toMatch(/Council:\s+pending: drawn from the pool after block 42/)
  })

  it('shows the seated council', () => {
    const task = {...makeTask(2, {status: 'assigned', bids: [5]}), executor: addr(10), price: 5n, council: [addr(20), addr(21)], councilSeated: true, drawBlock: 42}
    const json = taskJson(task)
    expect(json).toMatchObject({council: [addr(20), addr(21)], councilSeated: true})
    expect(renderTask(json)).not.toMatch(/pending/)
  })
})

describe('task show: how a failure treated the executor', () => {
  const failed = (reason: 'rejected' | 'timeout' | 'undecided' | 'no-council', slashed: bigint) => ({
    ...makeTask(3, {status: 'failed', bids: [5]}),
    executor: addr(10),
    price: 5n * 10n ** 18n,
    clientRefund: 34n * 10n ** 18n,
    failure: {k: 0, reason, executorSlashed: slashed, rewardPerRejecter: 0n, slashToClient: slashed},
  })

  it('a rejection or a timeout shows the slash', () => {
    expect(renderTask(taskJson(failed('rejected', 10n * 10n ** 18n)))).toMatch(/Failure:\s+checkpoint 0 rejected; executor slashed 10(\.0+)? oGPU/)
    expect(renderTask(taskJson(failed('timeout', 10n * 10n ** 18n)))).toMatch(/checkpoint 0 timeout; executor slashed 10(\.0+)? oGPU/)
  })

  it('a checkpoint undecided twice (silence, a tie) and a pool without a council say no slash', () => {
    for (const reason of ['undecided', 'no-council'] as const) {
      const text = renderTask(taskJson(failed(reason, 0n)))
      expect(text).toMatch(new RegExp(`Failure:\\s+checkpoint 0 ${reason}; no slash: the executor keeps its collateral`))
      expect(text).not.toMatch(/executor slashed/)
    }
  })
})

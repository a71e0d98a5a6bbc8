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

import {describe, expect, it} from 'vitest'

import {createLogger} from '../../../src/provider/log.js'

describe('daemon logs', () => {
  it('writes JSON lines with --log-format json, and drops fields named like secrets', () => {
    const lines: string[] = []
    const log = createLogger({format: 'json', write: (l) => lines.push(l)})
    log.info('council', 'Task 3 checkpoint 0: accept', {taskId: 3, k: 0, salt: '0xsecret', privateKey: '0xkey', amount: 10n})
    const entry = JSON.parse(lines[0]!)
    expect(entry).toMatchObject({level: 'info', event: 'council', msg: 'Task 3 checkpoint 0: accept', taskId: 3, k: 0, amount: '10'})
    expect(lines[0]).not.toMatch(/secret|0xkey/)
  })
  it('writes one human-readable line by default, below the level filtered out', () => {
    const lines: string[] = []
    const log = createLogger({write: (l) => lines.push(l)})
    log.debug('tx', 'hidden')
    log.warn('bid', 'Bid on task 4 failed', {taskId: 4, tx: '0xabc', password: 'p'})
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z WARN  bid {7}Bid on task 4 failed {2}tx=0xabc$/)
  })
})

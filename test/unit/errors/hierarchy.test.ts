/** The errors outside src/errors join the hierarchy and carry their data in typed fields. */
import {describe, expect, it} from 'vitest'

import {ExternalError, isOgpuError, OgpuError, toOgpuError} from '../../../src/errors/index.js'
import {HttpStatusError} from '../../../src/http/index.js'
import {TaskEndedError} from '../../../src/market/follow.js'
import {REFUSALS} from '../../../src/protocol/stream.js'
import {Refusal} from '../../../src/provider/stream/auth.js'
import {makeTask} from '../tui/fixtures.js'

describe('Refusal', () => {
  it('is an HttpStatusError whose status its refusal code fixes', () => {
    const refusal = new Refusal('too_large', 'max_tokens 9999 is over the limit.', 'max_tokens')
    expect(refusal).toBeInstanceOf(HttpStatusError)
    expect(refusal).toBeInstanceOf(OgpuError)
    expect(refusal.name).toBe('Refusal')
    expect([refusal.status, refusal.code, refusal.message, refusal.param]).toEqual([413, 'too_large', 'max_tokens 9999 is over the limit.', 'max_tokens'])
    expect([refusal.kind, refusal.exitCode]).toEqual(['user', 2])
    expect(new Refusal('busy', 'Shutting down.').param).toBeUndefined()
  })

  it('is a user error below 500 and an external one above', () => {
    for (const [code, status] of Object.entries(REFUSALS)) {
      const refusal = new Refusal(code as keyof typeof REFUSALS, 'x')
      expect(refusal.status).toBe(status)
      expect(refusal.kind).toBe(status < 500 ? 'user' : 'external')
    }
  })

  it('passes through toOgpuError unchanged', () => {
    const refusal = new Refusal('replayed', 'Seen.')
    expect(toOgpuError(refusal)).toBe(refusal)
  })
})

describe('TaskEndedError', () => {
  it('is an ExternalError with the task and a TASK_<STATUS> code', () => {
    const task = makeTask(7, {status: 'expired'})
    const error = new TaskEndedError(task)
    expect(error).toBeInstanceOf(ExternalError)
    expect(isOgpuError(error)).toBe(true)
    expect(error.task).toBe(task)
    expect(error.name).toBe('TaskEndedError')
    expect(error.toJSON()).toEqual({code: 'TASK_EXPIRED', kind: 'external', message: 'Task 7 ended (expired).'})
    expect(['finalized', 'failed', 'cancelled'].map((status) => new TaskEndedError(makeTask(1, {status: status as 'failed'})).code)).toEqual([
      'TASK_FINALIZED',
      'TASK_FAILED',
      'TASK_CANCELLED',
    ])
  })
})

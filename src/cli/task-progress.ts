import type {ListrTask} from 'listr2'

import {formatAmount} from '../chain/units.js'
import {ExternalError} from '../errors/index.js'
import {TaskEndedError, taskEndedCode, type TaskFollower} from '../market/follow.js'
import {FAIL_REASON_TEXT, type IndexedTask, slashesExecutor} from '../market/types.js'

const failedWith = (task: IndexedTask): ExternalError =>
  new ExternalError(
    task.status === 'failed'
      ? `Task ${task.id} failed at checkpoint ${task.failure!.k + 1}: ${FAIL_REASON_TEXT[task.failure!.reason]}. ${slashesExecutor(task.failure!.reason) ? `The executor was slashed ${formatAmount(task.failure!.executorSlashed)} oGPU` : 'No slash: the executor keeps its collateral'}; ${formatAmount(task.clientRefund)} oGPU came back to you.`
      : `Task ${task.id} ${task.status}: ${formatAmount(task.clientRefund)} oGPU came back to you.`,
    {code: taskEndedCode(task.status), hint: `See \`ogpu task show ${task.id}\`.`},
  )

/**
 * The steps of a batch task as listr2 tasks, each resolved by the follower: bids, assignment, each checkpoint,
 * finalization. Titles update live (bid count, best price, verdicts).
 */
export function taskProgressSteps(follower: TaskFollower, checkpoints: number): ListrTask[] {
  const guard = async (wait: Promise<IndexedTask>) => {
    try {
      return await wait
    } catch (error) {
      if (error instanceof TaskEndedError) throw failedWith(error.task)
      throw error
    }
  }
  const steps: ListrTask[] = [
    {
      title: 'Waiting for bids',
      task: async (_, step) => {
        const stop = follower.onUpdate((t) => {
          step.title = `Bids: ${t.bids.length}/${t.maxBids}${t.bestPrice === undefined ? '' : `, best ${formatAmount(t.bestPrice)} oGPU`}`
        })
        try {
          await guard(follower.until((t) => t.status !== 'open'))
        } finally {
          stop()
        }
      },
    },
    {
      title: 'Assignment',
      task: async (_, step) => {
        const t = await guard(follower.until((task) => task.executor !== undefined))
        step.title = `Assigned to ${t.executor} at ${formatAmount(t.price!)} oGPU; council ${t.council.length}`
      },
    },
  ]
  for (let k = 0; k < checkpoints; k++)
    steps.push({
      title: `Checkpoint ${k + 1}/${checkpoints}`,
      task: async (_, step) => {
        const stop = follower.onUpdate((t) => {
          const cp = t.checkpointList[k]
          if (!cp || cp.state === 'none') return
          const verdicts = Object.values(cp.verdicts)
          step.title = `Checkpoint ${k + 1}/${checkpoints}: committed, verdicts ${verdicts.filter((v) => v.commitment).length} committed / ${verdicts.filter((v) => v.accept !== undefined).length} revealed`
        })
        try {
          const t = await guard(follower.until((task) => ['accepted', 'rejected', 'cancelled'].includes(task.checkpointList[k]?.state ?? '') || task.status === 'finalized'))
          const cp = t.checkpointList[k]
          if (cp?.state === 'rejected') throw failedWith(await guard(follower.ended()))
          step.title = cp?.state === 'accepted' ? `Checkpoint ${k + 1}/${checkpoints}: accepted (${cp.approvals}–${cp.rejections}), paid ${formatAmount(cp.executorPaid ?? 0n)} oGPU` : `Checkpoint ${k + 1}/${checkpoints}: closed by confirmation`
        } finally {
          stop()
        }
      },
    })
  steps.push({
    title: 'Finalization',
    task: async (_, step) => {
      const t = await guard(follower.ended())
      if (t.status !== 'finalized') throw failedWith(t)
      step.title = `Finalized: executor paid ${formatAmount(t.executorPaid)} oGPU, ${formatAmount(t.clientRefund)} oGPU refunded`
    },
  })
  return steps
}

/** listr2 falls back to plain lines in CI, on dumb terminals and when stdout is not a TTY. */
export const plainOutput = (): boolean => Boolean(process.env.CI) || process.env.TERM === 'dumb' || !process.stdout.isTTY

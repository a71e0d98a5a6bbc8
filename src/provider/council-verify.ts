/** `ogpu council verify`: the council's check of a task's checkpoints, run by hand. */
import type {Wallet} from 'ethers'

import type {ChainContext} from '../chain/context.js'
import type {OgpuPaths} from '../config/paths.js'
import {UserError} from '../errors/index.js'
import {type GpuChoice, InferenceEngine, ModelStore} from '../gpu/index.js'
import type {IndexedTask} from '../market/types.js'
import {ogpuDomain} from '../protocol/eip712.js'
import {type CheckpointCheck, checkCheckpoint} from './council-check.js'
import {loadPublishedSpec} from './task-materials.js'

export interface CouncilVerifyResult {
  taskId: number
  member: string
  executor: string
  endpoint: string
  model: {name: string; sha256: string}
  method: string
  sampleSize: number
  all: boolean
  checkpoints: CheckpointCheck[]
  accept: boolean
}

const hex = (s: string) => s.toLowerCase().replace(/^0x/, '')

export async function councilVerify(options: {
  paths: OgpuPaths
  chain: ChainContext
  task: IndexedTask
  signer: Wallet
  /** One checkpoint. Defaults to every committed one. */
  checkpoint?: number
  /** Check every item instead of the member's sample. */
  all?: boolean
  /** Model name, sha256 or path. Defaults to the store's model with the task's sha256. */
  model?: string
  gpu?: GpuChoice
  threads?: number
  onNote?: (message: string) => void
}): Promise<CouncilVerifyResult> {
  const {task, chain, signer} = options
  if (!task.executor) throw new UserError(`Task ${task.id} has no executor yet.`, {code: 'NOT_ASSIGNED', hint: `Follow it with \`ogpu task watch ${task.id}\`.`})
  const committed = task.checkpointList.filter((cp) => cp?.resultRoot).map((cp) => cp.k)
  if (committed.length === 0) throw new UserError(`Task ${task.id} has no committed checkpoint yet.`, {code: 'NO_CHECKPOINT', hint: `Follow it with \`ogpu task watch ${task.id}\`.`})
  let ks = committed
  if (options.checkpoint !== undefined) {
    if (!committed.includes(options.checkpoint))
      throw new UserError(`Checkpoint ${options.checkpoint} of task ${task.id} is not committed.`, {code: 'NO_CHECKPOINT', hint: `Committed: ${committed.join(', ')}.`})
    ks = [options.checkpoint]
  }
  const member = signer.address
  if (member !== task.client && !task.council.includes(member))
    throw new UserError(`${member} is neither the client nor on the council of task ${task.id}: the executor serves items only to them.`, {
      code: 'NOT_ALLOWED',
      hint: `Use the client's wallet or a council member's (--wallet). The council: ${task.council.join(', ') || 'none'}.`,
    })
  const spec = await loadPublishedSpec(task)
  const store = new ModelStore({dataDir: options.paths.dataDir})
  const wanted = hex(task.modelHash)
  const located = await store.locate(options.model ?? wanted).catch((error: unknown) => {
    if (options.model) throw error
    throw new UserError(`The task's model ${wanted.slice(0, 12)}… (${spec.model.name}) is not in the model store.`, {
      code: 'MODEL_NOT_FOUND',
      hint: `Add it: ogpu model add ${spec.model.source ?? 'PATH|hf:USER/REPO/FILE.gguf'} --sha256 ${wanted}`,
    })
  })
  if (located.sha256 !== wanted)
    throw new UserError(`${options.model} has sha256 ${located.sha256}, not the task's model ${wanted}.`, {code: 'MODEL_MISMATCH', hint: 'Verification needs the exact model file.'})
  const endpoint = (await chain.registry.providerOf(task.executor)).endpoint
  options.onNote?.(`Loading ${located.model?.name ?? located.path}…`)
  const engine = await InferenceEngine.load({modelPath: located.path, gpu: options.gpu, threads: options.threads, sequences: 4})
  try {
    const domain = ogpuDomain(chain.network.chainId, chain.network.contracts.taskMarket)
    const checkpoints: CheckpointCheck[] = []
    for (const k of ks) {
      options.onNote?.(`Checking checkpoint ${k} (${options.all ? 'every item' : `the sample of ${member}`}) from ${endpoint}…`)
      checkpoints.push(await checkCheckpoint({chain, engine, spec, task, k, signer, domain, endpoint, all: options.all}))
    }
    return {
      taskId: task.id,
      member,
      executor: task.executor,
      endpoint,
      model: {name: located.model?.name ?? located.path, sha256: located.sha256},
      method: spec.verification.method,
      sampleSize: spec.verification.sampleSize,
      all: Boolean(options.all),
      checkpoints,
      accept: checkpoints.every((c) => c.accept),
    }
  } finally {
    await engine.dispose()
  }
}

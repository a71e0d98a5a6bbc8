/**
 * What a provider reads before it bids on, runs or checks a task: the published spec (by its URI, checked against
 * the spec hash on chain and against the task's on-chain fields) and the data (checked against the data root).
 */
import {ExternalError, UserError} from '../errors/index.js'
import type {IndexedTask} from '../market/types.js'
import {canonicalHash} from '../protocol/canonical.js'
import {type DataCommitment, fetchDataUri, loadTaskData} from '../protocol/task-data.js'
import {parseTaskSpec, type TaskSpec} from '../protocol/task-spec.js'

export interface TaskMaterials {
  spec: TaskSpec
  data: DataCommitment
}

const hex = (s: string) => s.toLowerCase().replace(/^0x/, '')

/** Reads the published spec of a task and checks it is the one on chain. Throws a UserError naming what is wrong. */
export async function loadPublishedSpec(task: Pick<IndexedTask, 'id' | 'specUri' | 'specHash' | 'modelHash' | 'dataRoot' | 'itemCount' | 'checkpoints' | 'councilSize'>): Promise<TaskSpec> {
  let text: string
  try {
    text = await fetchDataUri(task.specUri, {maxBytes: 1 << 20, timeoutMs: 10_000})
  } catch (error) {
    throw new ExternalError(`Cannot read the spec of task ${task.id} at ${task.specUri}: ${(error as Error).message}`, {code: 'SPEC_UNREADABLE', cause: error})
  }
  let document: unknown
  try {
    document = JSON.parse(text)
  } catch {
    throw new UserError(`The spec of task ${task.id} at ${task.specUri} is not JSON.`, {code: 'SPEC_INVALID'})
  }
  if (canonicalHash(document) !== task.specHash)
    throw new UserError(`The spec at ${task.specUri} does not hash to task ${task.id}'s spec hash ${task.specHash}.`, {code: 'SPEC_HASH_MISMATCH'})
  const {spec} = parseTaskSpec(text, {path: task.specUri})
  const problems: string[] = []
  if (hex(spec.model.sha256) !== hex(task.modelHash)) problems.push(`model ${spec.model.sha256} ≠ on-chain ${task.modelHash}`)
  if (spec.data.root && hex(spec.data.root) !== hex(task.dataRoot)) problems.push(`data root ${spec.data.root} ≠ on-chain ${task.dataRoot}`)
  if (spec.data.items !== undefined && spec.data.items !== task.itemCount) problems.push(`items ${spec.data.items} ≠ on-chain ${task.itemCount}`)
  if (spec.instructions.checkpoints !== task.checkpoints) problems.push(`checkpoints ${spec.instructions.checkpoints} ≠ on-chain ${task.checkpoints}`)
  if (problems.length > 0) throw new UserError(`The spec of task ${task.id} disagrees with the chain: ${problems.join('; ')}.`, {code: 'SPEC_MISMATCH'})
  return spec
}

/** Loads a task's spec and data, checked against the chain. */
export async function loadTaskMaterials(task: IndexedTask): Promise<TaskMaterials> {
  const spec = await loadPublishedSpec(task)
  const data = await loadTaskData(spec.data.uri, {items: task.itemCount, root: task.dataRoot})
  return {spec, data}
}

/** A small cache of materials by task id, loading each once even when asked concurrently. */
export class MaterialsCache {
  private readonly entries = new Map<number, Promise<TaskMaterials>>()
  private readonly specs = new Map<number, Promise<TaskSpec>>()

  /** The spec alone (a council member needs no data: items come with their proofs). */
  spec(task: IndexedTask): Promise<TaskSpec> {
    const loaded = this.entries.get(task.id)
    if (loaded) return loaded.then((m) => m.spec)
    let entry = this.specs.get(task.id)
    if (!entry) {
      entry = loadPublishedSpec(task)
      this.specs.set(task.id, entry)
      entry.catch(() => this.specs.delete(task.id))
    }
    return entry
  }

  get(task: IndexedTask): Promise<TaskMaterials> {
    let entry = this.entries.get(task.id)
    if (!entry) {
      entry = loadTaskMaterials(task)
      this.entries.set(task.id, entry)
      entry.catch(() => this.entries.delete(task.id)) // a failure is retried next time
    }
    return entry
  }

  /** The materials when already loaded. */
  peek(taskId: number): Promise<TaskMaterials> | undefined {
    return this.entries.get(taskId)
  }

  delete(taskId: number): void {
    this.entries.delete(taskId)
    this.specs.delete(taskId)
  }
}

import {mkdirSync, writeFileSync} from 'node:fs'
import {isAbsolute, join, resolve} from 'node:path'
import {pathToFileURL} from 'node:url'

import {Interface, type TransactionReceipt, type Wallet} from 'ethers'

import {chainTime} from '../chain/account.js'
import {type ChainContext, withSigner} from '../chain/context.js'
import {signPermit} from '../chain/permit.js'
import {sendTx} from '../chain/tx.js'
import {formatAmount} from '../chain/units.js'
import {BugError, UserError} from '../errors/index.js'
import {canonicalHash, canonicalJson} from '../protocol/canonical.js'
import {type DataCommitment, loadTaskData} from '../protocol/task-data.js'
import {type LoadedSpec, type TaskSpec} from '../protocol/task-spec.js'

/** What `submit` escrows: the max price plus every council fee it could owe. */
export function escrowOf(spec: TaskSpec): bigint {
  return spec.payment.maxPrice + spec.payment.councilFeePerVote * BigInt(spec.verification.council) * BigInt(spec.instructions.checkpoints)
}

export interface PublishedSpec {
  /** The spec as providers read it: data.uri absolute, data.items and data.root filled in. */
  document: Record<string, unknown>
  /** keccak256 of its canonical JSON: the hash on chain. */
  specHash: string
  specUri: string
  data: DataCommitment
}

export interface PublishOptions {
  /** Where providers fetch the spec. Defaults to a file: URI of the copy kept in `specsDir` (one machine only). */
  specUri?: string
  /** Directory for the published copies. */
  specsDir: string
}

/**
 * Loads the spec's data, checks it against the spec, and writes the spec as providers will read it. Relative data
 * paths become absolute file: URIs, so the spec means the same wherever it is read.
 */
export async function publishSpec(loaded: LoadedSpec, options: PublishOptions): Promise<PublishedSpec> {
  const {spec} = loaded
  const data = await loadTaskData(spec.data.uri, {items: spec.data.items, root: spec.data.root}, {baseDir: loaded.baseDir})
  if (spec.instructions.checkpoints > data.items.length)
    throw new UserError(`instructions.checkpoints (${spec.instructions.checkpoints}) is more than the ${data.items.length} data items.`, {code: 'INVALID_SPEC'})
  const uri = /^[a-z]+:/.test(spec.data.uri) ? spec.data.uri : pathToFileURL(isAbsolute(spec.data.uri) ? spec.data.uri : resolve(loaded.baseDir, spec.data.uri)).href
  const document = {...loaded.document, data: {...(loaded.document.data as object), uri, items: data.items.length, root: data.root}}
  const specHash = canonicalHash(document)
  mkdirSync(options.specsDir, {recursive: true})
  const file = join(options.specsDir, `${specHash.slice(2)}.json`)
  writeFileSync(file, `${canonicalJson(document)}\n`)
  return {document, specHash, specUri: options.specUri ?? pathToFileURL(file).href, data}
}

export interface SubmitResult {
  taskId: number
  txHash: string
  block: number
  specHash: string
  specUri: string
  dataRoot: string
  itemCount: number
  escrow: string
  biddingEnd: number
}

/** Escrows the max price and fees (one transaction with a permit) and submits the task. */
export async function submitTask(chain: ChainContext, signer: Wallet, spec: TaskSpec, published: PublishedSpec): Promise<SubmitResult> {
  const wallet = signer.connect(chain.provider)
  const escrow = escrowOf(spec)
  const balance = await chain.token.balanceOf(wallet.address)
  if (balance < escrow)
    throw new UserError(
      `The task escrows ${formatAmount(escrow)} oGPU (max price ${formatAmount(spec.payment.maxPrice)} + council fees) but ${wallet.address} has ${formatAmount(balance)} oGPU.`,
      {code: 'INSUFFICIENT_BALANCE', hint: 'Lower payment.maxPrice or payment.councilFeePerVote, or get more oGPU.'},
    )
  const modelHash = `0x${spec.model.sha256}`
  const params = {
    specHash: published.specHash,
    specUri: published.specUri,
    dataRoot: published.data.root,
    modelHash,
    itemCount: published.data.items.length,
    checkpoints: spec.instructions.checkpoints,
    councilSize: spec.verification.council,
    maxBids: spec.halting.maxBids,
    maxPrice: spec.payment.maxPrice,
    councilFeePerVote: spec.payment.councilFeePerVote,
    collateral: spec.payment.collateral,
    biddingWindow: spec.halting.biddingWindow,
    checkpointWindow: spec.instructions.checkpointWindow,
    commitWindow: spec.verification.commitWindow,
    revealWindow: spec.verification.revealWindow,
    softDeadline: spec.payment.latePenalty?.soft ?? 0,
    hardDeadline: spec.payment.latePenalty?.hard ?? 0,
  }
  const market = withSigner(chain.market, wallet)
  const marketAddress = await chain.market.getAddress()
  const deadline = (await chainTime(chain)) + 3600
  const permit = await signPermit(chain.token, wallet, marketAddress, escrow, deadline)
  let receipt: TransactionReceipt
  if (permit) {
    receipt = await sendTx(chain.provider, 'Submit task', () => market.submitWithPermit(params, deadline, permit.v, permit.r, permit.s), chain.tx)
  } else {
    const token = withSigner(chain.token, wallet)
    await sendTx(chain.provider, 'Approve oGPU', () => token.approve(marketAddress, escrow), chain.tx)
    receipt = await sendTx(chain.provider, 'Submit task', () => market.submit(params), chain.tx)
  }
  const iface = new Interface(chain.market.interface.fragments)
  for (const log of receipt.logs) {
    const parsed = iface.parseLog(log)
    if (parsed?.name === 'TaskSubmitted')
      return {
        taskId: Number(parsed.args.taskId),
        txHash: receipt.hash,
        block: receipt.blockNumber,
        specHash: published.specHash,
        specUri: published.specUri,
        dataRoot: published.data.root,
        itemCount: published.data.items.length,
        escrow: formatAmount(escrow),
        biddingEnd: Number(parsed.args.biddingEnd),
      }
  }
  throw new BugError('The submit transaction emitted no TaskSubmitted event.', {code: 'UNEXPECTED', details: {tx: receipt.hash}})
}

/** Cancels a task before its first bid: the escrow comes back. */
export async function cancelTask(chain: ChainContext, signer: Wallet, taskId: number): Promise<{taskId: number; txHash: string}> {
  const market = withSigner(chain.market, signer.connect(chain.provider))
  const receipt = await sendTx(chain.provider, 'Cancel task', () => market.cancel(taskId), chain.tx)
  return {taskId, txHash: receipt.hash}
}

/** Confirms a task early: the executor is paid the rest, the task is finalized. */
export async function confirmTask(chain: ChainContext, signer: Wallet, taskId: number): Promise<{taskId: number; txHash: string}> {
  const market = withSigner(chain.market, signer.connect(chain.provider))
  const receipt = await sendTx(chain.provider, 'Confirm task', () => market.confirm(taskId), chain.tx)
  return {taskId, txHash: receipt.hash}
}

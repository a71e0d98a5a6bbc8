import {createServer, type Server} from 'node:http'
import {randomBytes} from 'node:crypto'

import {type ContractTransactionResponse, JsonRpcProvider, Network, parseUnits, Wallet} from 'ethers'

import {registryAt, type ProviderRegistry} from '../../src/chain/contracts/registry.js'
import type {IStreamMarket} from '../../src/chain/contracts/stream-market.js'
import {taskMarketAt, type TaskMarket} from '../../src/chain/contracts/task-market.js'
import {tokenAt, type OGPUToken} from '../../src/chain/contracts/token.js'
import {sendTx} from '../../src/chain/tx.js'
import {devKeys} from '../../src/devnet/devnet.js'
import {createItemsHandler, type ServedItem} from '../../src/provider/items-api.js'
import {ogpuDomain} from '../../src/protocol/eip712.js'
import {type ItemResult, resultTree, segmentOf} from '../../src/protocol/results.js'
import {commitToItems, itemHash, type TaskItem} from '../../src/protocol/task-data.js'

/** The devnet a test started (the `--json` of `devnet start`). */
export interface DevnetInfo {
  rpcUrl: string
  chainId: number
  contracts: {token: string; registry: string; taskMarket: string}
}

/**
 * A devnet stream's parameters (IStreamMarket.StreamParams) for tests: optimistic, collateral 10, bond 1, windows of
 * 8 s and notices of 5 s, a placeholder spec. Prices in wei (defaults: 1 oGPU generated and 0.5 verified per 1k).
 */
export function testStreamParams(modelSha: string, options: {priceGenerated?: bigint; priceVerified?: bigint; councilSize?: number; deposit?: bigint} = {}): IStreamMarket.StreamParamsStruct {
  return {
    modelHash: `0x${modelSha.replace(/^0x/, '')}`,
    specHash: `0x${'22'.repeat(32)}`,
    specUri: 'data:application/json,{}',
    pricePerKTokenGenerated: options.priceGenerated ?? parseUnits('1', 18),
    pricePerKTokenVerified: options.priceVerified ?? parseUnits('0.5', 18),
    councilSize: options.councilSize ?? 1,
    responseMethod: 0,
    weightBps: 0,
    collateral: parseUnits('10', 18),
    maxDowntime: 60,
    unsubscribeNotice: 5,
    closeNotice: 5,
    commitWindow: 8,
    revealWindow: 8,
    disputeBond: parseUnits('1', 18),
    deposit: options.deposit ?? parseUnits('100', 18),
  }
}

export function chainOf(devnet: DevnetInfo) {
  const provider = new JsonRpcProvider(devnet.rpcUrl, devnet.chainId, {staticNetwork: Network.from(devnet.chainId), cacheTimeout: -1, pollingInterval: 100})
  return {
    provider,
    market: taskMarketAt(devnet.contracts.taskMarket, provider),
    registry: registryAt(devnet.contracts.registry, provider),
    token: tokenAt(devnet.contracts.token, provider),
  }
}

/** Moves the devnet's clock forward and mines a block (anvil test helper). */
export async function advance(provider: JsonRpcProvider, seconds: number): Promise<void> {
  await provider.send('evm_increaseTime', [seconds])
  await provider.send('evm_mine', [])
}

/** Moves the devnet's clock to the task's assignableAt (the deployment's minimum open time) if it is not there yet. */
export async function untilAssignable(provider: JsonRpcProvider, market: TaskMarket, taskId: number): Promise<void> {
  const {assignableAt} = await market.getTask(taskId)
  const now = (await provider.getBlock('latest'))!.timestamp
  if (now < Number(assignableAt)) await advance(provider, Number(assignableAt) - now)
}

/**
 * A provider played by a script: a dev wallet calling the contracts directly (the real daemon comes with
 * `ogpu provider start`). As executor it serves its results over the real items API.
 */
export class ScriptedProvider {
  readonly wallet: Wallet
  readonly market: TaskMarket
  readonly registry: ProviderRegistry
  readonly token: OGPUToken
  private salts = new Map<string, {accept: boolean; salt: string}>()
  private server?: Server
  endpoint = ''
  /** Served items per task: what this executor produced. */
  readonly served = new Map<number, ServedItem[]>()

  constructor(
    readonly devIndex: number,
    private readonly devnet: DevnetInfo,
    readonly chain = chainOf(devnet),
  ) {
    this.wallet = new Wallet(devKeys(10)[devIndex]!, chain.provider)
    this.market = chain.market.connect(this.wallet)
    this.registry = chain.registry.connect(this.wallet)
    this.token = chain.token.connect(this.wallet)
  }

  get address(): string {
    return this.wallet.address
  }

  private tx(what: string, send: () => Promise<ContractTransactionResponse>) {
    return sendTx(this.chain.provider, what, send)
  }

  /** Stakes, registers, joins the council pool of `councilModel` (sha256 hex) if given, and starts its items server. */
  async setup(stake: bigint, councilModel?: string): Promise<void> {
    this.server = createServer()
    const handler = createItemsHandler({
      domain: ogpuDomain(this.devnet.chainId, this.devnet.contracts.taskMarket),
      address: this.address,
      source: {
        items: async (taskId, first, count) => this.served.get(taskId)?.filter((i) => i.index >= first && i.index < first + count),
        mayRead: async (taskId, address) => {
          const task = await this.chain.market.getTask(taskId)
          const council = await this.chain.market.councilOf(taskId)
          return address === task.client || council.includes(address)
        },
      },
    })
    this.server.on('request', (req, res) => {
      handler(req, res).then((handled) => {
        if (!handled) res.writeHead(404).end()
      })
    })
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve))
    this.endpoint = `http://127.0.0.1:${(this.server.address() as {port: number}).port}`
    await this.tx('approve', () => this.token.approve(this.devnet.contracts.registry, stake))
    await this.tx('stake', () => this.registry.stake(stake))
    await this.tx('register', () => this.registry.register(this.endpoint, `0x${'11'.repeat(32)}`))
    if (councilModel) await this.tx('join council pool', () => this.registry.joinCouncil(`0x${councilModel.replace(/^0x/, '')}`))
  }

  bid(taskId: number, price: bigint) {
    return this.tx('bid', () => this.market.bid(taskId, price))
  }

  /** Assigns the task, first moving the clock past its minimum open time (a devnet task is assignable 2 s after
   *  submission), then seats its council from the pool in the next block (as any daemon would). */
  async assign(taskId: number) {
    await untilAssignable(this.chain.provider, this.chain.market, taskId)
    const receipt = await this.tx('assign', () => this.market.assign(taskId))
    await this.seat(taskId)
    return receipt
  }

  /** Seats the task's council (mining a block first, so that the draw block's hash exists). */
  async seat(taskId: number) {
    await this.chain.provider.send('evm_mine', [])
    return this.tx('seat council', () => this.market.seatCouncil(taskId))
  }

  /**
   * Runs checkpoint k as executor: "generates" outputs for the segment (scripted text, or `tamper` to change one),
   * keeps them for the items API, and commits the result root.
   */
  async executeCheckpoint(taskId: number, k: number, items: TaskItem[], checkpoints: number, options: {tamper?: boolean} = {}) {
    const {first, end} = segmentOf(items.length, checkpoints, k)
    const data = commitToItems(items)
    const results: ItemResult[] = items.slice(first, end).map((item, j) => ({
      index: first + j,
      id: item.id,
      itemHash: itemHash(item),
      completion: `output of ${item.id}`,
      tokenIds: [first + j, 7, 9],
      promptTokens: 5,
      finishReason: 'length',
    }))
    const tree = resultTree(results)
    const served: ServedItem[] = results.map((result) => ({
      index: result.index,
      k,
      item: items[result.index]!,
      itemProof: data.tree.proof(result.index),
      result: options.tamper && result.index === first ? {...result, completion: 'not what was committed'} : result,
      resultProof: tree.proof(result.index),
    }))
    this.served.set(taskId, [...(this.served.get(taskId) ?? []), ...served])
    await this.tx('commit checkpoint', () => this.market.commitCheckpoint(taskId, k, tree.root))
    return tree.root
  }

  async commitVerdict(taskId: number, k: number, accept: boolean) {
    const salt = `0x${randomBytes(32).toString('hex')}`
    this.salts.set(`${taskId}/${k}`, {accept, salt})
    const commitment = await this.market.verdictCommitment(taskId, k, accept, salt, this.address)
    return this.tx('commit verdict', () => this.market.commitVerdict(taskId, k, commitment))
  }

  reveal(taskId: number, k: number, override?: {accept: boolean}) {
    const saved = this.salts.get(`${taskId}/${k}`)!
    return this.tx('reveal', () => this.market.revealVerdict(taskId, k, override?.accept ?? saved.accept, saved.salt))
  }

  finalize(taskId: number, k: number) {
    return this.tx('finalize', () => this.market.finalizeCheckpoint(taskId, k))
  }

  async dispose(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
    this.chain.provider.destroy()
  }
}

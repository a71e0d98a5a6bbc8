/**
 * An Ethereum JSON-RPC node in memory, over HTTP on 127.0.0.1, for unit tests of the chain readers and indexers
 * through a real ethers JsonRpcProvider (the log pager reads eth_getLogs with fetch, around ethers, so a fake must
 * speak HTTP). It answers eth_chainId, eth_blockNumber, eth_getLogs from the logs a test mines, and eth_call from the
 * contract fakes a test registers; any other method is a JSON-RPC "method not found".
 */
import {createServer, type Server} from 'node:http'

import {getAddress, type Interface, JsonRpcProvider, keccak256, Network, type TransactionDescription, toBeHex, toQuantity, toUtf8Bytes} from 'ethers'

import type {BoundContract, EventInputs, TypedContractEvent} from '../../src/chain/contracts/events.js'
import {listen, readBody, sendJson} from '../../src/http/index.js'

/** A log as a test mines it: the emitting contract, its topics and data. */
export interface EmittedLog {
  address: string
  topics: readonly string[]
  data: string
}

/** A mined log, as eth_getLogs returns it. */
export interface RpcLog {
  address: string
  topics: string[]
  data: string
  blockNumber: string
  blockHash: string
  transactionHash: string
  transactionIndex: string
  logIndex: string
  removed: false
}

function addressOf(contract: BoundContract): string {
  if (typeof contract.target !== 'string') throw new TypeError('Bind the contract with its address.')
  return getAddress(contract.target)
}

/** The topics and data `contract` emits for `event` with `args` (typed by the ABI), ready to mine. */
export function emitted<E extends TypedContractEvent>(contract: BoundContract, event: E, args: EventInputs<E>): EmittedLog {
  const {topics, data} = contract.interface.encodeEventLog(event.fragment, args)
  return {address: addressOf(contract), topics, data}
}

/** Answers the calls to one contract: the return values of a call, or undefined to revert it. */
export type CallHandler = (call: TransactionDescription) => ReadonlyArray<unknown> | undefined

interface RpcRequest {
  id: number | string | null
  method: string
  params?: unknown[]
}

interface LogFilter {
  address?: string | string[]
  fromBlock?: string
  toBlock?: string
}

const blockHash = (n: number) => keccak256(toUtf8Bytes(`block ${n}`))

export class FakeNode {
  /** The head block number (eth_blockNumber). */
  head = 0
  /** Every eth_getLogs range asked, [fromBlock, toBlock], in order. */
  readonly getLogsRanges: Array<[number, number]> = []
  private readonly logs: RpcLog[] = []
  private readonly contracts = new Map<string, {iface: Interface; handler: CallHandler}>()
  private readonly providers: JsonRpcProvider[] = []
  private txCount = 0

  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly chainId: number,
  ) {}

  static async start(chainId = 31_337): Promise<FakeNode> {
    let node: FakeNode | undefined
    const server = createServer((req, res) => {
      readBody(req, {limit: 1 << 20})
        .then((body) => {
          const payload = JSON.parse(body.toString('utf8')) as RpcRequest | RpcRequest[]
          sendJson(res, 200, Array.isArray(payload) ? payload.map((r) => node!.answer(r)) : node!.answer(payload))
        })
        .catch((error: unknown) => sendJson(res, 400, {jsonrpc: '2.0', id: null, error: {code: -32700, message: String(error)}}))
    })
    const port = await listen(server, 0, '127.0.0.1')
    node = new FakeNode(server, `http://127.0.0.1:${port}`, chainId)
    return node
  }

  /** A provider of this node (no caching, so each call sees the node as it is now). Destroyed by {@link close}. */
  provider(): JsonRpcProvider {
    const provider = new JsonRpcProvider(this.url, this.chainId, {staticNetwork: Network.from(this.chainId), cacheTimeout: -1})
    this.providers.push(provider)
    return provider
  }

  /** Mines a block holding `logs` (one transaction each) and returns its number. */
  mine(...logs: EmittedLog[]): number {
    const block = ++this.head
    logs.forEach((log, i) =>
      this.logs.push({
        address: getAddress(log.address),
        topics: [...log.topics],
        data: log.data,
        blockNumber: toQuantity(block),
        blockHash: blockHash(block),
        transactionHash: keccak256(toUtf8Bytes(`tx ${++this.txCount}`)),
        transactionIndex: toQuantity(i),
        logIndex: toQuantity(i),
        removed: false,
      }),
    )
    return block
  }

  /** Every log mined so far, in chain order. */
  minedLogs(): readonly RpcLog[] {
    return this.logs
  }

  /** Answers eth_call to `contract` with `handler`. */
  serve(contract: BoundContract, handler: CallHandler): void {
    this.contracts.set(addressOf(contract), {iface: contract.interface, handler})
  }

  async close(): Promise<void> {
    for (const provider of this.providers) provider.destroy()
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  private answer(request: RpcRequest): object {
    const reply = (result: unknown) => ({jsonrpc: '2.0', id: request.id, result})
    const fail = (code: number, message: string, data?: string) => ({jsonrpc: '2.0', id: request.id, error: {code, message, data}})
    switch (request.method) {
      case 'eth_chainId':
        return reply(toQuantity(this.chainId))
      case 'eth_blockNumber':
        return reply(toQuantity(this.head))
      case 'eth_getLogs': {
        const filter = (request.params?.[0] ?? {}) as LogFilter
        const from = Number(filter.fromBlock ?? 0)
        const to = filter.toBlock === undefined || filter.toBlock === 'latest' ? this.head : Number(filter.toBlock)
        this.getLogsRanges.push([from, to])
        const addresses = filter.address === undefined ? undefined : [filter.address].flat().map((a) => getAddress(a))
        return reply(this.logs.filter((l) => Number(l.blockNumber) >= from && Number(l.blockNumber) <= to && (!addresses || addresses.includes(l.address))))
      }
      case 'eth_call': {
        const call = (request.params?.[0] ?? {}) as {to?: string; data?: string}
        const contract = call.to ? this.contracts.get(getAddress(call.to)) : undefined
        const parsed = contract && call.data ? contract.iface.parseTransaction({data: call.data}) : null
        const values = contract && parsed ? contract.handler(parsed) : undefined
        if (!contract || !parsed || !values) return fail(3, 'execution reverted', '0x')
        return reply(contract.iface.encodeFunctionResult(parsed.fragment, values))
      }
      default:
        return fail(-32601, `the method ${request.method} does not exist (fake node)`)
    }
  }
}

/** A 32-byte word of `n` (for hashes and roots in tests). */
export const word = (n: number | bigint): string => toBeHex(n, 32)

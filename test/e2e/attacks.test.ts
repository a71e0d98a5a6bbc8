import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'

import {parseUnits, Wallet} from 'ethers'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ensureModel} from '../fixtures/gguf-writer.js'
import {createHome, type OgpuHome, startDevnet, stopDevnet, waitFor} from '../helpers/cli.js'
import {Daemon} from '../helpers/daemon.js'
import {chainOf, ScriptedProvider, testStreamParams} from '../helpers/market.js'
import {streamMarketAt} from '../../src/chain/contracts/stream-market.js'
import {fromChainError} from '../../src/chain/errors.js'
import {sendTx} from '../../src/chain/tx.js'
import {devKeys} from '../../src/devnet/devnet.js'
import {ogpuDomain} from '../../src/protocol/eip712.js'
import {fromReceipt, signedRequestHeaders, toReceipt} from '../../src/protocol/stream.js'
import {parseItems, type TaskItem} from '../../src/protocol/task-data.js'

// Issue 12, attacks 1 and 2, replayed on a devnet against real daemons. Attack 1: three Sybil accounts (scripts
// calling the contracts) bid the task's max price into every bid slot the moment it is mined and race `assign`.
// Attack 2: a client subscribes Sybil accounts of its own to its own stream first, then disputes an honest
// provider's valid receipt. Three honest providers run the real binary (`ogpu provider start`), which joins the
// model's council pool on start.
const oGPU = (v: string) => parseUnits(v, 18)
const STATUS = ['none', 'open', 'assigned', 'finalized', 'failed', 'expired', 'cancelled']
const MAX_PRICE = '40'

describe('attacks 1 (Sybil capture of a batch task) and 2 (a client judges its own disputes) fail against real daemons', () => {
  let home: OgpuHome
  let devnet: any
  let chain: ReturnType<typeof chainOf>
  let sha: string
  const daemons: Daemon[] = []
  const sybils: ScriptedProvider[] = []
  const honest: string[] = []
  const items = new Map<string, TaskItem[]>()

  function writeSpec(name: string): string {
    const jsonl = Array.from({length: 6}, (_, i) => JSON.stringify({id: `${name}-${i}`, prompt: `Question ${i} of ${name}?`})).join('\n')
    items.set(name, parseItems(jsonl))
    writeFileSync(join(home.dir, `${name}.jsonl`), `${jsonl}\n`)
    const path = join(home.dir, `${name}.yaml`)
    writeFileSync(
      path,
      `version: 1
kind: batch
name: ${name}
model: {name: tiny, sha256: ${sha}}
data: {uri: ./${name}.jsonl}
instructions: {maxTokens: 8, checkpoints: 1, checkpointWindow: 60s}
payment: {maxPrice: "${MAX_PRICE}", councilFeePerVote: "1", collateral: "10"}
verification: {council: 2, sampleSize: 3, commitWindow: 30s, revealWindow: 30s}
halting: {maxBids: 3, biddingWindow: 30s}
`,
    )
    return path
  }

  async function submit(name: string): Promise<number> {
    const result = await home.json(['task', 'submit', writeSpec(name), '--wallet', 'dev1'])
    expect(result.code, result.stderr + result.stdout).toBe(0)
    return result.data.taskId
  }

  /** The Sybils bid into every free slot (the first one at `firstPrice`), then one races `assign`: its revert code. */
  async function rush(id: number, firstPrice: bigint): Promise<string | undefined> {
    for (const [i, sybil] of sybils.entries()) {
      const price = i === 0 ? firstPrice : oGPU(MAX_PRICE)
      // The daemons' bids race these: a bid's gas depends on the bids before it (hence the fixed gas limit), and
      // once the honest bids hold the slots a max-price bid is refused (it must be below the highest held bid).
      const sent = await sybil.market.bid(id, price, {gasLimit: 400_000n}).then((tx) => tx.wait()).then(
        () => true,
        () => false,
      )
      if (sent) continue
      const task = await chain.market.getTask(id)
      const held = await Promise.all(Array.from({length: Number(task.bidCount)}, (_, j) => chain.market.getBid(id, j)))
      expect(task.bidCount).toBe(task.maxBids)
      // refused: a full cap takes only a bid below its highest, so every held bid is at most this one
      expect(held.every((b) => b.price <= price)).toBe(true)
    }
    let caught: unknown
    await sybils[1]!.market.assign(id).catch((error: unknown) => (caught = error))
    expect(caught, 'assign before the minimum open time should revert').toBeDefined()
    return fromChainError(caught)?.code
  }

  const task = (id: number) => chain.market.getTask(id)
  const staked = async (who: string) => (await chain.registry.stakeOf(who)).staked
  const ended = (id: number) => waitFor(async () => ((await task(id)).status >= 3n ? task(id) : undefined), `task ${id} to end`, 150_000, 200)

  beforeAll(async () => {
    home = createHome('ogpu-attacks-e2e-')
    devnet = await startDevnet(home)
    chain = chainOf(devnet)
    const tiny = ensureModel('tiny')
    sha = createHash('sha256').update(readFileSync(tiny)).digest('hex')
    expect((await home.run(['model', 'add', tiny, '--name', 'tiny'])).code).toBe(0)
    await Promise.all(
      ['dev2', 'dev3', 'dev4'].map(async (w) => {
        const registered = await home.json(['provider', 'register', '--endpoint', 'http://127.0.0.1:9', '--wallet', w])
        expect(registered.code, registered.stderr).toBe(0)
        honest.push(registered.data.address)
        expect((await home.run(['stake', 'deposit', '1000', '--wallet', w])).code).toBe(0)
      }),
    )
    // The Sybils: staked and registered, with an items server; not in the council pool.
    for (const index of [5, 6, 7]) {
      const sybil = new ScriptedProvider(index, devnet)
      await sybil.setup(oGPU('1000'))
      sybils.push(sybil)
    }
    for (const w of ['dev2', 'dev3', 'dev4']) {
      const daemon = Daemon.cli(home, w, ['--port', '0', '--threads', '1', '--log-format', 'json', '--min-price-per-1k', '100'])
      daemons.push(daemon)
    }
    await Promise.all(daemons.map((daemon) => daemon.ready({readyTimeoutMs: 120_000})))
    // Every honest daemon is in the model's council pool before any task is submitted.
    await waitFor(
      async () => ((await Promise.all(honest.map((a) => chain.registry.councilPositionOf(`0x${sha}`, a)))).every((p) => p.member) ? true : undefined),
      'the honest daemons to join the council pool',
      60_000,
      200,
    )
  })

  afterAll(async () => {
    await Promise.all(daemons.map((daemon) => daemon.dispose()))
    await Promise.all(sybils.map((sybil) => sybil.dispose()))
    if (process.env.OGPU_E2E_LOGS) daemons.forEach((daemon, i) => writeFileSync(join(process.env.OGPU_E2E_LOGS!, `attacks-${i}-${daemon.wallet}.log`), daemon.output))
    chain?.provider.destroy()
    if (home) {
      await stopDevnet(home)
      home.dispose()
    }
  })

  it('max-price Sybil bids cannot crowd out the honest ones: assign waits for the open time, an honest provider executes, judged by the pool', async () => {
    const before = await Promise.all(sybils.map((s) => chain.token.balanceOf(s.address)))
    const id = await submit('crowd')
    expect(await rush(id, oGPU(MAX_PRICE))).toBe('REVERT_TaskMarketOpenTimeNotOver')
    const done = await ended(id)
    expect(STATUS[Number(done.status)]).toBe('finalized')
    // The executor is an honest daemon at its own price, far below the Sybils' 40 oGPU.
    expect(honest).toContain(done.executor)
    expect(done.price < oGPU(MAX_PRICE)).toBe(true)
    // The council came from the pool: honest pool members, never the executor, never a Sybil.
    const council = await chain.market.councilOf(id)
    expect(council).toHaveLength(2)
    for (const member of council) {
      expect(honest).toContain(member)
      expect(member).not.toBe(done.executor)
    }
    // The Sybils got nothing and keep nothing locked on the task.
    for (const [i, sybil] of sybils.entries()) {
      expect(await chain.market.lockedFor(id, sybil.address)).toBe(0n)
      expect((await chain.token.balanceOf(sybil.address)) - before[i]!).toBe(0n)
    }
  })

  it('a Sybil that undercuts everybody commits a garbage checkpoint: the pool council rejects it and slashes it', async () => {
    const [cheat] = sybils
    const stakeBefore = await staked(cheat!.address)
    const id = await submit('garbage')
    await rush(id, oGPU('0.001'))
    // Anyone may assign after the open time; the cheat does, and its council is seated from the pool.
    await waitFor(async () => ((await task(id)).status >= 2n ? true : undefined), `task ${id} to be assigned`, 60_000, 200).catch(async () => {
      await cheat!.assign(id)
    })
    await waitFor(async () => ((await task(id)).councilSeated ? true : undefined), `task ${id}'s council to be seated`, 60_000, 200).catch(async () => {
      await cheat!.seat(id)
    })
    const assigned = await task(id)
    expect(assigned.executor).toBe(cheat!.address)
    const council = await chain.market.councilOf(id)
    for (const member of council) expect(honest).toContain(member)
    // Scripted outputs: not the model's tokens.
    await cheat!.executeCheckpoint(id, 0, items.get('garbage')!, 1)
    const failed = await ended(id)
    expect(STATUS[Number(failed.status)]).toBe('failed')
    const cp0 = await chain.market.checkpointOf(id, 0)
    expect(cp0.state).toBe(3n) // rejected
    expect(cp0.rejections).toBe(2n)
    expect(stakeBefore - (await staked(cheat!.address))).toBe(oGPU('10'))
  })

  it('attack 2: the client\'s own first subscribers no longer judge its disputes; the honest provider keeps its stake and the client loses its bond', async () => {
    const client = new Wallet(devKeys(10)[1]!, chain.provider)
    const streamMarket = streamMarketAt(devnet.contracts.streamMarket, chain.provider)
    const domain = ogpuDomain(devnet.chainId, devnet.contracts.streamMarket)
    await sendTx(chain.provider, 'approve', () => chain.token.connect(client).approve(devnet.contracts.streamMarket, oGPU('200')))
    const streamId = await streamMarket.nextStreamId()
    // 1 wei: below every daemon's floor, so the Sybils subscribe first
    const params = testStreamParams(sha, {priceGenerated: 1n, priceVerified: 1n, councilSize: 2})
    await sendTx(chain.provider, 'create stream', () => streamMarket.connect(client).create(params))
    // The client's two Sybils (staked and registered, not honest pool members) subscribe at once: under the old
    // rule the first subscribers were the dispute council.
    const accomplices = sybils.slice(1)
    for (const sybil of accomplices) await sendTx(chain.provider, 'subscribe', () => streamMarket.connect(sybil.wallet).subscribe(streamId))
    // Now the price the honest daemons take: they subscribe after the Sybils.
    await sendTx(chain.provider, 'update terms', () => streamMarket.connect(client).updateTerms(streamId, oGPU('1'), oGPU('0.5')))
    const subscribers = await waitFor(async () => {
      const list = await streamMarket.subscribersOf(streamId)
      return honest.every((a) => list.includes(a)) ? list : undefined
    }, 'the honest daemons to subscribe', 60_000, 200)
    expect(subscribers.slice(0, 2)).toEqual(accomplices.map((s) => s.address))

    // A valid response of an honest daemon, with its signed receipt, and its evidence served for the council.
    const accused = daemons[0]!
    const body = JSON.stringify({messages: [{role: 'user', content: 'Tell me about GPUs.'}], max_tokens: 8})
    const signed = await signedRequestHeaders(client, domain, streamId, accused.address, body)
    const response = await fetch(`${accused.localUrl}/v1/chat/completions`, {method: 'POST', headers: {'content-type': 'application/json', ...signed.headers}, body})
    const json = (await response.json()) as any
    expect(response.status, JSON.stringify(json)).toBe(200)
    const evidence = JSON.stringify({receipt: json.ogpu.receipt, signature: json.ogpu.signature, provider: accused.address, body, tokens: json.ogpu.tokens})
    const server: Server = createServer((_req, res) => res.writeHead(200, {'content-type': 'application/json'}).end(evidence))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    try {
      const file = join(home.dir, 'honest-receipt.json')
      writeFileSync(file, JSON.stringify({provider: accused.address, receipt: fromReceipt(toReceipt(json.ogpu.receipt)), signature: json.ogpu.signature, evidenceUri: `http://127.0.0.1:${(server.address() as {port: number}).port}/evidence`}))
      const stakeBefore = await staked(accused.address)
      const clientBefore = await chain.token.balanceOf(client.address)
      const opened = await home.json(['stream', 'dispute', 'open', '--receipt', file, '--wallet', 'dev1'])
      expect(opened.code, opened.stderr + opened.stdout).toBe(0)
      // The council is drawn from the model's staked pool a block later: the two other honest daemons, never the
      // accused, never the client, and never the client's subscribers, who are not in the pool.
      expect(opened.data.state).toBe('open')
      expect([...opened.data.council].sort()).toEqual(honest.filter((a) => a !== accused.address).sort())
      // A Sybil cannot vote: it holds no seat.
      const refused = await streamMarket.connect(accomplices[0]!.wallet).commitVerdict(opened.data.disputeId, `0x${'ab'.repeat(32)}`).catch((error: unknown) => fromChainError(error)?.code)
      expect(refused).toBe('REVERT_StreamMarketNotCouncilMember')
      const settled = await waitFor(async () => {
        const d = await streamMarket.getDispute(opened.data.disputeId)
        return d.state === 2n || d.state === 3n ? d : undefined
      }, 'the dispute to be settled', 90_000, 250)
      expect(settled.state).toBe(2n) // Valid: the seats verified the response by prefill
      expect([settled.approvals, settled.rejections]).toEqual([2n, 0n])
      expect(await staked(accused.address)).toBe(stakeBefore)
      expect((await streamMarket.subscription(streamId, accused.address)).status).toBe(1n) // still subscribed
      expect(clientBefore - (await chain.token.balanceOf(client.address))).toBe(oGPU('1')) // the bond, lost
      const reasons = daemons.slice(1).flatMap((d) => d.logs()).filter((l) => l.event === 'dispute' && /the response is valid/.test(String(l.msg)))
      expect(reasons.map((l) => String(l.msg))).toEqual([expect.stringContaining('verified by prefill'), expect.stringContaining('verified by prefill')])
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  })
})

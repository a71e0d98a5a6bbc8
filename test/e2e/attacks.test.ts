import {createHash} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'

import {parseUnits} from 'ethers'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {ensureModel} from '../fixtures/gguf-writer.js'
import {createHome, type OgpuHome, startDevnet, stopDevnet, waitFor} from '../helpers/cli.js'
import {Daemon} from '../helpers/daemon.js'
import {chainOf, ScriptedProvider} from '../helpers/market.js'
import {fromChainError} from '../../src/chain/errors.js'
import {parseItems, type TaskItem} from '../../src/protocol/task-data.js'

// Issue 12, attack 1, replayed on a devnet against real daemons: three Sybil accounts (scripts calling the
// contracts) bid the task's max price into every bid slot the moment it is mined and race `assign`. Three honest
// providers run the real binary (`ogpu provider start`), which joins the model's council pool on start.
const oGPU = (v: string) => parseUnits(v, 18)
const STATUS = ['none', 'open', 'assigned', 'finalized', 'failed', 'expired', 'cancelled']
const MAX_PRICE = '40'

describe('attack 1 (Sybil capture of a batch task) fails against real daemons', () => {
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
      expect(held.every((b) => b.price < price)).toBe(true)
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
})

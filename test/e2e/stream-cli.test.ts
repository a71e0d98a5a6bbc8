import {randomBytes} from 'node:crypto'
import {readFileSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {join} from 'node:path'

import {parseUnits, TypedDataEncoder, Wallet} from 'ethers'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'

import {type ChainContext, openChain} from '../../src/chain/context.js'
import {sendTx} from '../../src/chain/tx.js'
import {resolvePaths} from '../../src/config/paths.js'
import {devKeys} from '../../src/devnet/devnet.js'
import {canonicalHash} from '../../src/protocol/canonical.js'
import {fromReceipt, receiptDigest, RECEIPT_TYPES, type Receipt, signReceipt, signVoucher} from '../../src/protocol/stream.js'
import {allowanceOf, commitVerdict, redeem, redeemed, revealVerdict, streamDomain, streamMarketOf, verdictCommitment} from '../../src/stream/chain.js'
import {createHome, freePort, type OgpuHome, repoRoot, startDevnet, stopDevnet} from '../helpers/cli.js'
import {advance} from '../helpers/market.js'

const oGPU = (v: string) => parseUnits(v, 18)
const EXAMPLE = join(repoRoot, 'examples', 'stream.yaml')

describe('ogpu stream: client and provider commands on a real devnet', () => {
  let home: OgpuHome
  let chain: ChainContext
  let health: Server
  let client: Wallet
  let alice: Wallet
  let bob: Wallet
  let carol: Wallet
  let streamId: number
  let deadEndpoint: string

  /** The example stream's model: dispute councils are drawn from its council pool. */
  const MODEL = '0xd7b0506fba04129cbe372d920eee1b3f28641910de2496b441691bef57c7e9b2'

  /** A registered, staked provider (dev wallet `index`) whose endpoint is `endpoint`, in the council pool of MODEL. */
  async function provider(index: number, endpoint: string): Promise<Wallet> {
    const wallet = new Wallet(devKeys(10)[index]!, chain.provider)
    const token = chain.token.connect(wallet)
    const registry = chain.registry.connect(wallet)
    await sendTx(chain.provider, 'approve', () => token.approve(chain.network.contracts.registry, oGPU('100')))
    await sendTx(chain.provider, 'stake', () => registry.stake(oGPU('100')))
    await sendTx(chain.provider, 'register', () => registry.register(endpoint, `0x${'11'.repeat(32)}`))
    await sendTx(chain.provider, 'join the council pool', () => registry.joinCouncil(MODEL))
    return wallet
  }

  const balance = async (address: string) => await chain.token.balanceOf(address)
  const show = async (id = streamId) => {
    const result = await home.json(['stream', 'show', String(id)])
    expect(result.code, result.stderr + result.stdout).toBe(0)
    return result.data
  }

  beforeAll(async () => {
    home = createHome()
    await startDevnet(home)
    chain = await openChain({paths: resolvePaths(home.env)})
    client = new Wallet(devKeys(10)[1]!, chain.provider)
    // Alice's endpoint answers GET /health; Bob's is a port nobody listens on.
    health = createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end('ok'))
    await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve))
    deadEndpoint = `http://127.0.0.1:${await freePort()}`
    alice = await provider(2, `http://127.0.0.1:${(health.address() as {port: number}).port}`)
    bob = await provider(3, deadEndpoint)
    carol = await provider(5, deadEndpoint) // in the pool, never subscribed
  })
  afterAll(async () => {
    chain?.dispose()
    await new Promise<void>((resolve) => (health ? health.close(() => resolve()) : resolve()))
    if (home) {
      await stopDevnet(home)
      home.dispose()
    }
  })

  it('creates a stream from examples/stream.yaml: deposit escrowed, terms published under their hash', async () => {
    const before = await balance(client.address)
    const created = await home.json(['stream', 'create', EXAMPLE, '--wallet', 'dev1'])
    expect(created.code, created.stderr + created.stdout).toBe(0)
    expect(created.data).toMatchObject({streamId: 1, method: 'permit', deposit: {value: '50'}})
    streamId = created.data.streamId
    expect(before - (await balance(client.address))).toBe(oGPU('50'))
    // specUri points at the published terms; their canonical hash is the specHash on chain.
    const document = JSON.parse(readFileSync(new URL(created.data.specUri), 'utf8'))
    expect(canonicalHash(document)).toBe(created.data.specHash)
    expect(document.model.sha256).toBe('d7b0506fba04129cbe372d920eee1b3f28641910de2496b441691bef57c7e9b2')
    expect(created.data.modelHash).toBe(`0x${document.model.sha256}`)
  })

  it('lists and shows it with its terms (--json)', async () => {
    const list = await home.json(['stream', 'list'])
    expect(list.code, list.stderr).toBe(0)
    expect(list.data.total).toBe(1)
    expect(list.data.streams.map((s: any) => s.id)).toEqual([streamId])
    const mine = await home.json(['stream', 'list', '--mine', '--wallet', 'dev2'])
    expect(mine.data.streams).toEqual([])

    const s = await show()
    expect(s).toMatchObject({
      id: streamId,
      status: 'active',
      client: client.address,
      prices: {generatedPerKToken: {value: '0.02'}, verifiedPerKToken: {value: '0.005'}},
      council: {size: 2, method: 'weighted', weightBps: 5000},
      collateral: {value: '10'},
      notice: {unsubscribeSeconds: 60, closeSeconds: 60},
      disputes: {bond: {value: '1'}, commitWindowSeconds: 60, revealWindowSeconds: 60},
      deposit: {value: '50'},
      subscribers: [],
      spent: {value: '0'},
      openDisputes: [],
      closeAt: null,
      finalizable: false,
    })
    const onChain = await streamMarketOf(chain).getStream(streamId)
    expect(s.specHash).toBe(onChain.specHash)
    expect(s.deposit.wei).toBe(onChain.deposit.toString())
  })

  it('updates the prices and tops up the deposit', async () => {
    const updated = await home.json(['stream', 'update', String(streamId), '--price-generated', '0.03', '--wallet', 'dev1'])
    expect(updated.code, updated.stderr + updated.stdout).toBe(0)
    const topped = await home.json(['stream', 'topup', String(streamId), '5', '--wallet', 'dev1'])
    expect(topped.code, topped.stderr + topped.stdout).toBe(0)
    expect(topped.data.deposit.value).toBe('55')
    const s = await show()
    expect(s.prices).toEqual({generatedPerKToken: {value: '0.03', wei: oGPU('0.03').toString()}, verifiedPerKToken: {value: '0.005', wei: oGPU('0.005').toString()}})
    expect(s.deposit.value).toBe('55')

    const nothing = await home.json(['stream', 'update', String(streamId), '--wallet', 'dev1'])
    expect(nothing.code).toBe(2)
    expect(nothing.data.error.code).toBe('NOTHING_TO_UPDATE')
    const notClient = await home.json(['stream', 'update', String(streamId), '--price-verified', '1', '--wallet', 'dev2'])
    expect(notClient.code).toBe(2)
    expect(notClient.data.error).toMatchObject({code: 'REVERT_StreamMarketNotClient', hint: expect.stringContaining('--wallet')})
  })

  it('subscribes two providers; show reports their collateral and endpoint health honestly', async () => {
    for (const wallet of ['dev2', 'dev3']) {
      const sub = await home.json(['stream', 'subscribe', String(streamId), '--wallet', wallet])
      expect(sub.code, sub.stderr + sub.stdout).toBe(0)
      expect(sub.data.collateral.value).toBe('10')
    }
    const s = await show()
    expect(s.subscriberCount).toBe(2)
    expect(s.subscribers.map((x: any) => x.address)).toEqual([alice.address, bob.address])
    expect(s.subscribers[0]).toMatchObject({status: 'active', locked: {value: '10'}, redeemed: {value: '0'}, health: {state: 'live', httpStatus: 200}, openDispute: null})
    expect(s.subscribers[1]).toMatchObject({status: 'active', endpoint: deadEndpoint, health: {state: 'unreachable'}})
    const stake = await chain.registry.stakeOf(alice.address)
    expect(stake.locked).toBe(oGPU('10'))
  })

  it('decodes a revert by name with advice: subscribing twice', async () => {
    const again = await home.json(['stream', 'subscribe', String(streamId), '--wallet', 'dev2'])
    expect(again.code).toBe(2)
    expect(again.data.error).toMatchObject({
      code: 'REVERT_StreamMarketAlreadySubscribed',
      message: `${alice.address} is already subscribed to stream ${streamId}.`,
      hint: expect.stringContaining(`ogpu stream show ${streamId}`),
    })
    const human = await home.run(['stream', 'subscribe', String(streamId), '--wallet', 'dev2'])
    expect(human.code).toBe(2)
    expect(human.stderr).toContain('is already subscribed')
    expect(human.stderr).toContain('Hint:')
  })

  it('refuses a bad spec, naming the field and its line', async () => {
    const text = readFileSync(EXAMPLE, 'utf8').replace('method: weighted', 'method: fastest').replace('collateral: "10"', 'collateral: "ten"')
    const bad = join(home.dir, 'bad-stream.yaml')
    writeFileSync(bad, text)
    const line = (needle: string) => text.split('\n').findIndex((l) => l.includes(needle)) + 1
    const result = await home.json(['stream', 'create', bad, '--wallet', 'dev1'])
    expect(result.code).toBe(2)
    expect(result.data.error.code).toBe('INVALID_SPEC')
    expect(result.data.error.message).toContain(`bad-stream.yaml:${line('method: fastest')}: council.method must be`)
    expect(result.data.error.message).toContain(`bad-stream.yaml:${line('collateral: "ten"')}: collateral is not an oGPU amount`)
    const total = await home.json(['stream', 'list', '--all'])
    expect(total.data.total).toBe(1)
  })

  it("the chain recovers the wire module's voucher signature: a signed voucher redeems exactly its amount", async () => {
    const domain = streamDomain(chain)
    // The contract has no digest getters (EIP-170): the redeem below and the dispute after it check that the chain
    // recovers what the wire module signs; here the wire module against ethers' own EIP-712 encoder.
    const voucher = {streamId: BigInt(streamId), provider: alice.address, cumulativeAmount: oGPU('1.25')}
    const receipt: Receipt = {streamId: BigInt(streamId), requestId: `0x${randomBytes(32).toString('hex')}`, responseHash: `0x${randomBytes(32).toString('hex')}`, promptTokens: 12, completionTokens: 34}
    expect(TypedDataEncoder.hash(domain, RECEIPT_TYPES, receipt)).toBe(receiptDigest(domain, receipt))

    const aliceBefore = await balance(alice.address)
    const signature = await signVoucher(client, domain, voucher)
    const paid = await redeem(chain, alice, {streamId: voucher.streamId, cumulativeAmount: voucher.cumulativeAmount, signature})
    expect(paid.paid).toBe(oGPU('1.25'))
    expect((await balance(alice.address)) - aliceBefore).toBe(oGPU('1.25'))
    expect(await redeemed(chain, BigInt(streamId), alice.address)).toBe(oGPU('1.25'))
    const s = await show()
    expect(s.deposit.value).toBe('53.75')
    expect(s.spent.value).toBe('1.25')
    expect(s.subscribers[0].redeemed.value).toBe('1.25')
  })

  it('stream allowance reserves part of the deposit for one subscriber; lowering it is only announced (the close notice)', async () => {
    const raised = await home.json(['stream', 'allowance', String(streamId), alice.address, '5', '--wallet', 'dev1'])
    expect(raised.code, raised.stderr + raised.stdout).toBe(0)
    expect(raised.data).toMatchObject({streamId, provider: alice.address, action: 'increased', allowance: {value: '5'}, surelyRedeemable: {value: '5'}, decreaseAt: null})
    expect((await allowanceOf(chain, streamId, alice.address)).surelyRedeemable).toBe(oGPU('5'))
    let s = await show()
    expect(s.deposit.value).toBe('48.75')
    expect(s.reserved.value).toBe('5')
    expect(s.subscribers[0].allowance.value).toBe('5')
    const lowered = await home.json(['stream', 'allowance', String(streamId), alice.address, '2', '--wallet', 'dev1'])
    expect(lowered.code, lowered.stderr + lowered.stdout).toBe(0)
    // surelyRedeemable drops at once; the allowance itself only after the notice
    expect(lowered.data).toMatchObject({action: 'decrease-requested', allowance: {value: '5'}, pendingDecrease: {value: '3'}, surelyRedeemable: {value: '2'}})
    expect(lowered.data.decreaseAt).toBeGreaterThan(0)
    s = await show()
    expect(s.reserved.value).toBe('5')
    const notSubscribed = await home.json(['stream', 'allowance', String(streamId), client.address, '1', '--wallet', 'dev1'])
    expect(notSubscribed.code).toBe(2)
    expect(notSubscribed.data.error.code).toBe('REVERT_StreamMarketNotSubscribed')
    const tooMuch = await home.json(['stream', 'allowance', String(streamId), bob.address, '1000', '--wallet', 'dev1'])
    expect(tooMuch.code).toBe(2)
    expect(tooMuch.data.error.code).toBe('INSUFFICIENT_DEPOSIT')
    const notClient = await home.json(['stream', 'allowance', String(streamId), bob.address, '1', '--wallet', 'dev2'])
    expect(notClient.code).toBe(2)
    expect(notClient.data.error.code).toBe('REVERT_StreamMarketNotClient')
  })

  it('disputes a receipt from a file; a council drawn from the staked pool judges; finalize settles it', async () => {
    const domain = streamDomain(chain)
    const receipt: Receipt = {streamId: BigInt(streamId), requestId: `0x${randomBytes(32).toString('hex')}`, responseHash: `0x${randomBytes(32).toString('hex')}`, promptTokens: 5, completionTokens: 7}
    const file = join(home.dir, 'receipt.json')
    writeFileSync(file, JSON.stringify({provider: alice.address, receipt: fromReceipt(receipt), signature: await signReceipt(alice, domain, receipt), evidenceUri: 'http://127.0.0.1:9/evidence'}))

    // A receipt signed by somebody else than the provider it names is refused before any bond is paid.
    const forged = join(home.dir, 'forged.json')
    writeFileSync(forged, JSON.stringify({provider: alice.address, receipt: fromReceipt(receipt), signature: await signReceipt(bob, domain, receipt), evidenceUri: ''}))
    const refused = await home.json(['stream', 'dispute', 'open', '--receipt', forged, '--wallet', 'dev1'])
    expect(refused.code).toBe(2)
    expect(refused.data.error.code).toBe('INVALID_RECEIPT')

    const before = await balance(client.address)
    const opened = await home.json(['stream', 'dispute', 'open', '--receipt', file, '--wallet', 'dev1'])
    expect(opened.code, opened.stderr + opened.stdout).toBe(0)
    // Seated a block later from the pool of the model: never the accused (alice) nor the client who disputed; carol
    // sits though she never subscribed. Each seat locks the stream's collateral (10) for the dispute.
    expect(opened.data).toMatchObject({disputeId: 1, streamId, provider: alice.address, bond: {value: '1'}, state: 'open'})
    expect([...opened.data.council].sort()).toEqual([bob.address, carol.address].sort())
    expect(opened.data.txHashes).toHaveLength(3) // approve the bond, openDispute, seatDispute
    expect(opened.data.txHashes[1]).toBe(opened.data.txHash)
    expect(before - (await balance(client.address))).toBe(oGPU('1'))
    expect((await chain.registry.stakeOf(carol.address)).locked).toBe(oGPU('10'))
    expect((await chain.registry.stakeOf(bob.address)).locked).toBe(oGPU('20')) // its subscription's and its seat's

    const s = await show()
    expect(s.openDisputes.map((d: any) => d.id)).toEqual([1])
    expect(s.subscribers[0].openDispute).toBe(1)
    const again = await home.json(['stream', 'dispute', 'open', '--receipt', file, '--wallet', 'dev1'])
    expect(again.code).toBe(2)
    // refused on chain, decoded (the accused is under this dispute already: checked before the receipt's own record)
    expect(again.data.error).toMatchObject({code: 'REVERT_StreamMarketProviderUnderDispute', hint: expect.stringContaining('ogpu stream dispute show 1')})

    const seatAgain = await home.json(['stream', 'dispute', 'seat', '1', '--wallet', 'dev4'])
    expect(seatAgain.code).toBe(2)
    expect(seatAgain.data.error).toMatchObject({code: 'REVERT_StreamMarketNotSeating', message: expect.stringContaining('no longer waiting to be seated')})

    const salts = [bob, carol].map(() => `0x${randomBytes(32).toString('hex')}`)
    for (const [i, voter] of [bob, carol].entries()) await commitVerdict(chain, voter, 1, await verdictCommitment(chain, 1, true, salts[i]!, voter.address))
    for (const [i, voter] of [bob, carol].entries()) await revealVerdict(chain, voter, 1, true, salts[i]!)
    const shown = await home.json(['stream', 'dispute', 'show', '1'])
    expect(shown.data).toMatchObject({id: 1, state: 'open', commits: 2, reveals: 2, approvals: 2, finalizable: true})

    const aliceBefore = await balance(alice.address)
    const done = await home.json(['stream', 'dispute', 'finalize', '1', '--wallet', 'dev4'])
    expect(done.code, done.stderr + done.stdout).toBe(0)
    expect(done.data).toMatchObject({valid: true, approvals: 2, rejections: 0})
    // The accept voters share voterRewardBps (50%) of the bond, the provider gets the rest; the seats are unlocked.
    expect(done.data.toProvider.value).toBe('0.5')
    expect(done.data.rewardPerVoter.value).toBe('0.25')
    expect((await balance(alice.address)) - aliceBefore).toBe(oGPU('0.5'))
    expect((await chain.registry.stakeOf(carol.address)).locked).toBe(0n)
    expect((await home.json(['stream', 'dispute', 'show', '1'])).data.state).toBe('valid')
  })

  it('unsubscribes in two steps: the notice, then the exit (collateral released)', async () => {
    const first = await home.json(['stream', 'unsubscribe', String(streamId), '--wallet', 'dev3'])
    expect(first.code, first.stderr + first.stdout).toBe(0)
    expect(first.data).toMatchObject({step: 'requested', noticeSeconds: 60})
    const early = await home.json(['stream', 'unsubscribe', String(streamId), '--wallet', 'dev3'])
    expect(early.code).toBe(2)
    expect(early.data.error.code).toBe('NOTICE_NOT_OVER')
    expect((await show()).subscribers[1].status).toBe('unsubscribing')

    await advance(chain.provider, 61)
    const second = await home.json(['stream', 'unsubscribe', String(streamId), '--wallet', 'dev3'])
    expect(second.code, second.stderr + second.stdout).toBe(0)
    expect(second.data).toMatchObject({step: 'finished', released: {value: '10'}})
    expect((await chain.registry.stakeOf(bob.address)).locked).toBe(0n)
    expect((await show()).subscribers.map((x: any) => x.address)).toEqual([alice.address])
  })

  it('closes: finalize is refused during the notice (decoded), then refunds the deposit and releases subscribers', async () => {
    const closed = await home.json(['stream', 'close', String(streamId), '--wallet', 'dev1'])
    expect(closed.code, closed.stderr + closed.stdout).toBe(0)
    expect((await show()).status).toBe('closing')
    const early = await home.json(['stream', 'finalize', String(streamId), '--wallet', 'dev1'])
    expect(early.code).toBe(2)
    expect(early.data.error).toMatchObject({code: 'REVERT_StreamMarketCloseNoticeNotOver', hint: expect.stringContaining(`ogpu stream finalize ${streamId}`)})

    await advance(chain.provider, 61)
    const before = await balance(client.address)
    const open = await show()
    const deposit = (BigInt(open.deposit.wei) + BigInt(open.reserved.wei)).toString() // allowances left come back too
    const done = await home.json(['stream', 'finalize', String(streamId), '--wallet', 'dev1'])
    expect(done.code, done.stderr + done.stdout).toBe(0)
    expect(done.data.refund.wei).toBe(deposit)
    expect((await balance(client.address)) - before).toBe(BigInt(deposit))
    const s = await show()
    expect(s).toMatchObject({status: 'closed', deposit: {value: '0'}, reserved: {value: '0'}, subscribers: []})
    expect((await chain.registry.stakeOf(alice.address)).locked).toBe(0n)
    expect((await home.json(['stream', 'list'])).data.streams).toEqual([])
    expect((await home.json(['stream', 'list', '--status', 'closed'])).data.streams.map((x: any) => x.id)).toEqual([streamId])
  })

  it('close --finalize waits out a short notice and finalizes in one command', async () => {
    const text = readFileSync(EXAMPLE, 'utf8').replace(/close: 1m/, 'close: 2s').replace(/deposit: "50"/, 'deposit: "3"')
    const spec = join(home.dir, 'short.yaml')
    writeFileSync(spec, text)
    const created = await home.json(['stream', 'create', spec, '--wallet', 'dev1'])
    expect(created.code, created.stderr + created.stdout).toBe(0)
    const result = await home.json(['stream', 'close', String(created.data.streamId), '--finalize', '--wallet', 'dev1'])
    expect(result.code, result.stderr + result.stdout).toBe(0)
    expect(result.data.finalized.refund.value).toBe('3')
    expect((await show(created.data.streamId)).status).toBe('closed')
  })

  it('network add --stream-market checks the market; a network without one says how to get one', async () => {
    const {taskMarket, streamMarket} = chain.network.contracts
    const added = await home.json(['network', 'add', 'mirror', '--rpc', chain.rpcUrl, '--market', taskMarket, '--stream-market', streamMarket!])
    expect(added.code, added.stderr + added.stdout).toBe(0)
    expect(added.data.contracts.streamMarket).toBe(streamMarket)
    const listed = await home.json(['stream', 'list', '--all', '--network', 'mirror'])
    expect(listed.data.total).toBe(2)

    const wrong = await home.json(['network', 'add', 'wrong', '--rpc', chain.rpcUrl, '--market', taskMarket, '--stream-market', taskMarket])
    expect(wrong.code).toBe(2)
    expect(wrong.data.error.code).toBe('CONTRACTS_NOT_FOUND')

    const old = await home.json(['network', 'add', 'old', '--rpc', chain.rpcUrl, '--market', taskMarket])
    expect(old.code, old.stderr + old.stdout).toBe(0)
    const none = await home.json(['stream', 'list', '--network', 'old'])
    expect(none.code).toBe(2)
    expect(none.data.error).toMatchObject({code: 'NO_STREAM_MARKET', hint: expect.stringContaining('--stream-market')})
  })
})

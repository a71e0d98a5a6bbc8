import {afterEach, describe, expect, it} from 'vitest'

import {Wallet} from 'ethers'

import {ogpuDomain, signItemsRequest} from '../../../src/protocol/eip712.js'
import type {ItemSource, ServedItem} from '../../../src/provider/items-api.js'
import {type ProviderServer, startProviderServer} from '../../../src/provider/server.js'

const domain = ogpuDomain(31337, '0x5FbDB2315678afecb367f032d93F642f64180aa3')
const reader = new Wallet('0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a')
/** The executor serving the items (requests are signed for it). */
const executor = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8'
const item = (index: number): ServedItem => ({index, k: 0, item: {prompt: `p${index}`} as unknown as ServedItem['item'], itemProof: [], result: {text: `r${index}`} as unknown as ServedItem['result'], resultProof: []})

const servers: ProviderServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

async function start(source: ItemSource): Promise<string> {
  const server = await startProviderServer({host: '127.0.0.1', port: 0, domain, address: executor, source, health: () => ({ok: true}), status: async () => ({amount: 5n})})
  servers.push(server)
  return `http://127.0.0.1:${server.port}`
}

const source = (serving?: () => boolean): ItemSource => ({
  items: async (taskId, first, count) => (taskId === 7 ? [item(0), item(1), item(2)].filter((i) => i.index >= first && i.index < first + count) : undefined),
  mayRead: async (_taskId, address) => address === reader.address,
  ...(serving ? {serving} : {}),
})

async function get(url: string, taskId: number, first: number, count: number, signer = reader, o: {for?: string; ttl?: number} = {}) {
  const expiry = Math.floor(Date.now() / 1000) + (o.ttl ?? 60)
  const signature = await signItemsRequest(signer, domain, {taskId, executor: o.for ?? executor, first, count, expiry})
  const path = count === 1 ? `/tasks/${taskId}/items/${first}` : `/tasks/${taskId}/items?first=${first}&count=${count}`
  return fetch(`${url}${path}`, {headers: {'x-ogpu-signature': signature, 'x-ogpu-expiry': String(expiry)}})
}

describe('the items API', () => {
  it('serves signed reads of the client or council, and refuses the rest in the provider\'s error shape', async () => {
    const url = await start(source())
    expect(await (await get(url, 7, 1, 2)).json()).toEqual({taskId: 7, items: [item(1), item(2)]})
    const stranger = await get(url, 7, 0, 1, Wallet.createRandom())
    expect(stranger.status).toBe(403)
    expect((await stranger.json()).error).toMatchObject({type: 'ogpu_error', code: 'FORBIDDEN'})
    expect((await get(url, 8, 0, 1)).status).toBe(404)
    const unsigned = await fetch(`${url}/tasks/7/items/0`)
    expect([unsigned.status, (await unsigned.json()).error.code]).toEqual([401, 'UNSIGNED'])
    expect((await fetch(`${url}/tasks/7/items?first=0&count=101`)).status).toBe(400)
  })

  it('refuses a request signed for another executor, or valid for longer than an hour', async () => {
    const url = await start(source())
    // Signed for another executor, the signature recovers to nobody who may read here.
    const elsewhere = await get(url, 7, 0, 1, reader, {for: Wallet.createRandom().address})
    expect([elsewhere.status, (await elsewhere.json()).error.code]).toEqual([403, 'FORBIDDEN'])
    const forever = await get(url, 7, 0, 1, reader, {ttl: 100 * 365 * 24 * 3600})
    expect([forever.status, (await forever.json()).error.code]).toEqual([401, 'EXPIRED'])
    expect((await get(url, 7, 0, 1, reader, {ttl: 3500})).status).toBe(200)
  })

  it('answers 503 UNAVAILABLE while its source is not serving', async () => {
    let serving = false
    const url = await start(source(() => serving))
    const refused = await get(url, 7, 0, 1)
    expect(refused.status).toBe(503)
    expect(await refused.json()).toEqual({error: {message: 'Items are not served right now.', type: 'ogpu_error', code: 'UNAVAILABLE'}})
    serving = true
    expect((await get(url, 7, 0, 1)).status).toBe(200)
  })

})

describe('the provider server', () => {
  it('answers health and status as JSON (bigints as strings), 405 on other methods, 404 elsewhere', async () => {
    const url = await start(source())
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ok: true})
    expect(await (await fetch(`${url}/v1/ogpu/status`)).json()).toEqual({amount: '5'})
    expect((await fetch(`${url}/health`, {method: 'POST'})).status).toBe(405)
    const missing = await fetch(`${url}/nowhere`)
    expect(await missing.json()).toEqual({error: {message: 'No route GET /nowhere.', type: 'ogpu_error', code: 'NOT_FOUND'}})
  })
})

/**
 * The demo's report from a task's events (who executed, who voted what, who was paid) and the stream figures read
 * from a provider's real HTTP status endpoint.
 */
import {createServer, type Server} from 'node:http'

import {afterEach, describe, expect, it} from 'vitest'

import {batchReport, batchReportLines} from '../../../src/demo/report.js'
import {providerStreamFigures, sendDemoRequests, streamReportLines} from '../../../src/demo/stream.js'
import {addr, makeTask, oGPU} from '../tui/fixtures.js'

let server: Server | undefined
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()))
  server = undefined
})

async function serve(handler: (url: string, body: string) => {status: number; body: string}): Promise<string> {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (d) => (body += d))
    req.on('end', () => {
      const answer = handler(req.url ?? '', body)
      res.writeHead(answer.status, {'content-type': 'application/json'}).end(answer.body)
    })
  })
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as {port: number}).port}`
}

describe('the demo report', () => {
  it('names the executor, the council, each verdict and what each was paid; a voter who did not reveal gets no fee', () => {
    const [exec, c1, c2] = [addr(10), addr(11), addr(12)]
    const task = makeTask(7, {status: 'finalized', bids: [5, 6, 6], items: 20})
    Object.assign(task, {
      executor: exec,
      price: oGPU(5),
      council: [c1, c2],
      executorPaid: oGPU(5),
      clientRefund: oGPU(35),
      checkpointList: [0, 1].map((k) => ({
        k,
        state: 'accepted',
        resultRoot: '0x',
        seedBlock: 0,
        commitEnd: 0,
        revealEnd: 0,
        committedBlock: 0,
        verdicts: {[c1]: {voter: c1, commitment: '0x1', accept: true}, [c2]: k === 0 ? {voter: c2, commitment: '0x2', accept: true} : {voter: c2, commitment: '0x2', slashed: oGPU(1)}},
        approvals: k === 0 ? 2 : 1,
        rejections: 0,
        feePerVoter: oGPU('0.5'),
      })),
    })
    const wallets = [{name: 'dev2', address: exec}, {name: 'dev3', address: c1}, {name: 'dev4', address: c2}]
    const report = batchReport(task, wallets)
    expect(report).toMatchObject({taskId: 7, status: 'finalized', items: 20, bids: 3, executor: {wallet: 'dev2'}, price: {value: '5'}})
    expect(report.council.map((p) => p.wallet)).toEqual(['dev3', 'dev4'])
    expect(report.checkpoints[1]!.verdicts).toEqual([
      {address: c1, wallet: 'dev3', accept: true},
      {address: c2, wallet: 'dev4', accept: null},
    ])
    expect(report.payments.map((p) => [p.wallet, p.role, p.amount.value])).toEqual([
      ['dev2', 'executor', '5'],
      ['dev3', 'council', '1'],
      ['dev4', 'council', '0.5'],
    ])
    const lines = batchReportLines(report)
    expect(lines[0]).toBe('Batch task 7: finalized, 20 items, 3 bids')
    expect(lines).toContain('  checkpoint 1: accepted (1 accept, 0 reject) · dev3 accept, dev4 no reveal')
    expect(lines.at(-1)).toBe('  payments   dev2 5 oGPU (executor), dev3 1 oGPU (council), dev4 0.5 oGPU (council); client refund 35 oGPU')
  })

  it('credits council fees only to the voters who revealed with the majority (ITaskMarket), not to a minority voter', () => {
    const [exec, c1, c2, c3] = [addr(10), addr(11), addr(12), addr(13)]
    const task = makeTask(8, {status: 'finalized', bids: [5, 6, 6, 6], items: 20})
    Object.assign(task, {
      executor: exec,
      price: oGPU(5),
      council: [c1, c2, c3],
      executorPaid: oGPU(5),
      checkpointList: [
        {
          k: 0,
          state: 'accepted',
          resultRoot: '0x',
          seedBlock: 0,
          commitEnd: 0,
          revealEnd: 0,
          committedBlock: 0,
          verdicts: {[c1]: {voter: c1, commitment: '0x1', accept: true}, [c2]: {voter: c2, commitment: '0x2', accept: true}, [c3]: {voter: c3, commitment: '0x3', accept: false}},
          approvals: 2,
          rejections: 1,
          feePerVoter: oGPU('0.5'),
        },
      ],
    })
    const report = batchReport(task, [{name: 'dev2', address: exec}, {name: 'dev3', address: c1}, {name: 'dev4', address: c2}, {name: 'dev5', address: c3}])
    expect(report.payments.map((p) => [p.wallet, p.role, p.amount.value])).toEqual([
      ['dev2', 'executor', '5'],
      ['dev3', 'council', '0.5'],
      ['dev4', 'council', '0.5'],
      ['dev5', 'council', '0'], // revealed "reject" against the majority: no fee
    ])
  })

  it("reads a provider's stream figures from its status endpoint (null when it has none for the stream)", async () => {
    const url = await serve(() => ({status: 200, body: JSON.stringify({streams: {streams: {'3': {requests: 2, verifications: 1, completionTokens: 30, charged: '1500', voucher: '1500', redeemed: '0', subscription: 'active'}}}})}))
    const party = {address: addr(10), wallet: 'dev2', url}
    expect(await providerStreamFigures(party, '3')).toMatchObject({wallet: 'dev2', requests: 2, verifications: 1, charged: {wei: '1500'}, voucher: {wei: '1500'}, subscription: 'active'})
    expect(await providerStreamFigures(party, '4')).toBeNull()
  })

  it('sends the chat requests (the last streamed), retries 503 until subscribers are live, and names a refusal', async () => {
    let calls = 0
    const bodies: any[] = []
    const url = await serve((path, body) => {
      calls++
      if (calls === 1) return {status: 503, body: '{"error":{"message":"not enough live subscribers"}}'}
      const request = JSON.parse(body)
      bodies.push(request)
      if (!request.stream) return {status: 200, body: JSON.stringify({choices: [{message: {content: 'hi there'}}], usage: {prompt_tokens: 5, completion_tokens: 2}, ogpu: {provider: addr(10)}})}
      const chunks = [{choices: [{delta: {content: 'a'}}]}, {choices: [{delta: {content: 'b'}}]}, {choices: [], usage: {prompt_tokens: 4, completion_tokens: 2}, ogpu: {provider: addr(11)}}]
      return {status: 200, body: `${chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('')}data: [DONE]\n\n`}
    })
    const responses = await sendDemoRequests(url, '3')
    expect(bodies.map((b) => [b.model, b.stream])).toEqual([
      ['ogpu-stream-3', false],
      ['ogpu-stream-3', false],
      ['ogpu-stream-3', true],
    ])
    expect(responses.map((r) => [r.text, r.completionTokens, r.provider, r.streamed])).toEqual([
      ['hi there', 2, addr(10), false],
      ['hi there', 2, addr(10), false],
      ['ab', 2, addr(11), true],
    ])
    const lines = streamReportLines({streamId: '3', councilSize: 2, responseMethod: 'weighted', subscribers: [{address: addr(10), wallet: 'dev2'}], responses, tokens: 6, providers: [], vouchers: {value: '0.1', wei: '1'}})
    expect(lines[0]).toBe('Stream 3: 1 subscribers (dev2), council 2, weighted')
    expect(lines.at(-1)).toBe('  3 responses, 6 tokens; vouchers signed 0.1 oGPU')

    await new Promise<void>((resolve) => server!.close(() => resolve()))
    server = undefined
    const refusing = await serve(() => ({status: 402, body: '{"error":{"message":"over credit"}}'}))
    await expect(sendDemoRequests(refusing, '3')).rejects.toThrow(/The gateway answered 402 to "Say hello to the network.": .*over credit/)
  })
})

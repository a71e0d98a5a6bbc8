import type {Server} from 'node:http'
import {connect, type Socket} from 'node:net'

import {afterEach, describe, expect, it} from 'vitest'

import {createLimitedServer, DEFAULT_SERVER_LIMITS, listen, serverLimits} from '../../../src/http/index.js'

const servers: Server[] = []
const sockets: Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy()
  for (const server of servers.splice(0)) {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }
})

async function serve(limits: Parameters<typeof createLimitedServer>[1]): Promise<number> {
  const server = createLimitedServer((_req, res) => res.end('ok'), limits)
  servers.push(server)
  return listen(server, 0, '127.0.0.1')
}

/** A raw connection; resolves once connected, and tells when the server closed it. */
async function open(port: number): Promise<{socket: Socket; closed: Promise<void>; data: () => string}> {
  const socket = connect(port, '127.0.0.1')
  sockets.push(socket)
  let data = ''
  socket.on('data', (c: Buffer) => (data += c.toString()))
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  socket.on('error', () => {})
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()))
  return {socket, closed, data: () => data}
}

describe('server limits', () => {
  it('closes connections of one client beyond its cap, and accepts it again once one closes', async () => {
    const port = await serve({maxConnectionsPerClient: 2})
    const a = await open(port)
    const b = await open(port)
    const c = await open(port)
    await c.closed // the third connection of this address is closed by the server
    a.socket.destroy()
    await a.closed
    const d = await open(port)
    d.socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
    await d.closed
    expect(d.data()).toMatch(/^HTTP\/1\.1 200/)
    b.socket.destroy()
  })

  it('drops a client whose headers never finish arriving', async () => {
    const port = await serve({headersTimeoutMs: 200, requestTimeoutMs: 200})
    const slow = await open(port)
    slow.socket.write('GET / HTTP/1.1\r\nHost: x\r\n') // and never the blank line
    await slow.closed
    expect(slow.data()).toMatch(/^HTTP\/1\.1 408/)
  })

  it('has defaults, and refuses a limit that is not a positive integer', () => {
    expect(serverLimits()).toEqual(DEFAULT_SERVER_LIMITS)
    const server = createLimitedServer(() => {})
    expect([server.headersTimeout, server.requestTimeout, server.maxConnections]).toEqual([DEFAULT_SERVER_LIMITS.headersTimeoutMs, DEFAULT_SERVER_LIMITS.requestTimeoutMs, DEFAULT_SERVER_LIMITS.maxConnections])
    expect(() => createLimitedServer(() => {}, {maxConnectionsPerClient: 0})).toThrow(/maxConnectionsPerClient must be a positive integer/)
  })
})

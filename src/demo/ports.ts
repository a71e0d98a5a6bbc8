import {createServer} from 'node:net'

import {isPortOpen} from '../devnet/anvil.js'

/** A TCP port on 127.0.0.1 that nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0))
    })
  })
}

/** `preferred` when it is free, else any free port. */
export async function freePortNear(preferred: number): Promise<number> {
  return (await isPortOpen(preferred)) ? freePort() : preferred
}

/** Starting a server on a host and port, with the errors a user can act on. */
import type {Server} from 'node:http'
import type {AddressInfo} from 'node:net'

import {ExternalError, UserError} from '../errors/index.js'

/**
 * Listens on `host:port` (0 picks a free port) and resolves with the bound port. Rejects with a UserError
 * `PORT_IN_USE` when the port is taken, else an ExternalError `LISTEN_FAILED`.
 */
export function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      if (error.code === 'EADDRINUSE')
        reject(new UserError(`Port ${port} on ${host} is already in use.`, {code: 'PORT_IN_USE', hint: 'Pick another one with --port (0 picks a free port).'}))
      else reject(new ExternalError(`Cannot listen on ${host}:${port}: ${error.message}`, {code: 'LISTEN_FAILED', cause: error}))
    }
    const onListening = () => {
      server.off('error', onError)
      resolve((server.address() as AddressInfo).port)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}

/** The client gateway: a stream's subscribers behind one OpenAI-compatible endpoint (docs/protocol.md). */
export {type CompletionHandlers, type CompletionOutcome, type GatewayEvent, type GatewayOptions, gatewayError, parseCallerBody, statusOf, StreamGateway} from './gateway.js'
export {type GatewayHandle, startGateway, type StartGatewayOptions} from './server.js'

/** HTTP plumbing shared by every ogpu server: JSON responses, bodies with a limit, the error shape, listening. */
export {readBody, type ReadBodyOptions} from './body.js'
export {HttpStatusError, type HttpStatusErrorOptions, httpStatusOf} from './errors.js'
export {createLimitedServer, DEFAULT_SERVER_LIMITS, type ServerLimits, serverLimits} from './limits.js'
export {listen} from './listen.js'
export {OGPU_ERROR_TYPE, openAiError, type OpenAiErrorBody, type OpenAiErrorOptions, openAiErrorType} from './openai-error.js'
export {sendError, sendJson, sendText, toJson} from './send.js'

/**
 * Which OpenAI request parameters ogpu honours, and a refusal for the rest: nothing a caller sends is silently
 * ignored (issue 13). A stream response must stay verifiable by the council, which today re-computes greedy output
 * by prefill: a parameter that would change what is generated, or what is returned, beyond that is refused with
 * 400, naming the parameter, until it is supported. Parameters that change nothing ogpu returns (user, metadata,
 * store, service_tier, seed under greedy decoding) are accepted. One home for the rule: the provider's request
 * parser and the gateway's caller check both call {@link unsupportedParameter}.
 */

/** A parameter refused, with OpenAI's code for it (`unsupported_parameter` or `unsupported_value`). */
export interface UnsupportedParameter {
  param: string
  code: 'unsupported_parameter' | 'unsupported_value'
  message: string
}

const present = (value: unknown): boolean => value !== undefined && value !== null
const isZero = (value: unknown): boolean => value === 0

/** Parameters refused outright when present (what they ask for, for the message). */
const NOT_YET: Record<string, string> = {
  tools: 'tool calls',
  tool_choice: 'tool calls',
  functions: 'function calls',
  function_call: 'function calls',
  parallel_tool_calls: 'tool calls',
  top_logprobs: 'log probabilities',
  suffix: 'a suffix (insertion)',
  audio: 'audio output',
  modalities: 'other output modalities',
  prediction: 'predicted outputs',
  web_search_options: 'web search',
}

/**
 * The first parameter of an OpenAI chat or completions body that ogpu does not honour, or undefined. Values that
 * equal OpenAI's defaults (logprobs false, penalties 0, best_of 1, echo false, an empty logit_bias, response_format
 * text) are accepted: they ask for nothing.
 */
export function unsupportedParameter(body: Record<string, unknown>): UnsupportedParameter | undefined {
  for (const [param, what] of Object.entries(NOT_YET)) {
    if (!present(body[param])) continue
    if (param === 'tool_choice' && body[param] === 'none') continue
    if (param === 'parallel_tool_calls' && !present(body.tools)) continue
    return {param, code: 'unsupported_parameter', message: `${param} is not supported yet: ogpu does not return ${what}, and will not ignore the parameter.`}
  }
  const format = body.response_format as {type?: unknown} | undefined
  if (present(format) && !(typeof format === 'object' && format?.type === 'text'))
    return {param: 'response_format', code: 'unsupported_value', message: `response_format ${JSON.stringify(format)} is not supported yet (only {"type": "text"}): the output is not constrained to JSON.`}
  if (present(body.logprobs) && body.logprobs !== false && !isZero(body.logprobs))
    return {param: 'logprobs', code: 'unsupported_value', message: 'logprobs are not returned yet: send logprobs false or leave it out.'}
  for (const param of ['presence_penalty', 'frequency_penalty'])
    if (present(body[param]) && !isZero(body[param])) return {param, code: 'unsupported_value', message: `${param} must be 0 or absent for now: responses are greedy so that the council can verify them by prefill.`}
  const bias = body.logit_bias
  if (present(bias) && !(typeof bias === 'object' && Object.keys(bias as object).length === 0))
    return {param: 'logit_bias', code: 'unsupported_value', message: 'logit_bias is not supported yet: send {} or leave it out.'}
  if (present(body.best_of) && body.best_of !== 1) return {param: 'best_of', code: 'unsupported_value', message: 'best_of must be 1 or absent.'}
  if (present(body.echo) && body.echo !== false) return {param: 'echo', code: 'unsupported_value', message: 'echo is not supported yet: send echo false or leave it out.'}
  return undefined
}

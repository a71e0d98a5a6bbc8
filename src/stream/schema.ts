/**
 * The JSON Schema of a stream spec: the terms a client opens a stream with (docs/protocol.md, "Stream tasks on the
 * wire"; validated like a task spec, "The task prescription"), built from the fragments it shares with task specs
 * (src/protocol/schema-fragments.ts). `ogpu stream schema` prints it so editors can validate and autocomplete spec files.
 */
import {amount, duration, modelName, modelSha256, modelSource, positiveAmount, specHeader, specName} from '../protocol/schema-fragments.js'

export const STREAM_SCHEMA_ID = 'https://ogpu.dev/schema/stream-v1.json'

export const streamSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: STREAM_SCHEMA_ID,
  title: 'ogpu stream terms',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'kind', 'model', 'prices', 'deposit'],
  properties: {
    ...specHeader,
    kind: {const: 'stream', description: 'Task kind. A stream serves online requests (OpenAI API) for as long as it is open.'},
    name: specName('stream'),
    model: {
      type: 'object',
      description: 'The model, named as in batch specs. Providers subscribe only when they hold this exact GGUF file.',
      additionalProperties: false,
      required: ['name'],
      anyOf: [{required: ['sha256']}, {required: ['path']}],
      properties: {
        name: {...modelName, description: 'Model name, for people (and the `model` of OpenAI requests).'},
        sha256: {...modelSha256, description: "sha256 of the GGUF file: the model's identity. Either this or path."},
        path: {
          type: 'string',
          minLength: 1,
          description: 'A local GGUF file (relative to the spec) whose sha256 is computed at create time; the published terms carry the hash, not the path.',
        },
        source: modelSource,
      },
    },
    prices: {
      type: 'object',
      description: 'What the client pays providers, in oGPU per 1,000 tokens (changeable later with `ogpu stream update`).',
      additionalProperties: false,
      required: ['generated', 'verified'],
      properties: {
        generated: {...amount, description: 'oGPU per 1,000 generated (completion) tokens.'},
        verified: {...amount, description: 'oGPU per 1,000 tokens a council member verifies by prefill (prompt + completion).'},
      },
    },
    council: {
      type: 'object',
      description: 'Who checks each response, and when the gateway releases it.',
      additionalProperties: false,
      properties: {
        size: {type: 'integer', minimum: 1, maximum: 16, description: 'Verifiers per response off chain, and seats per dispute. Defaults to 1.'},
        method: {
          enum: ['optimistic', 'weighted', 'unanimous'],
          description: 'optimistic (default): the response goes out at once and is verified after; weighted: released after ceil(weight × size) approvals; unanimous: released after all size approve.',
        },
        weight: {type: 'number', exclusiveMinimum: 0, maximum: 1, description: 'For weighted only: the share of the council that must approve, (0, 1].'},
      },
    },
    collateral: {...positiveAmount, description: 'Stake each subscribing provider locks (oGPU). Defaults to "10".'},
    maxDowntime: {...duration, description: 'Time without `council.size` live subscribers after which the stream counts as interrupted. Defaults to 5m.'},
    notice: {
      type: 'object',
      description: 'Notice periods.',
      additionalProperties: false,
      properties: {
        unsubscribe: {...duration, description: 'Between a provider asking to leave and leaving. Defaults to 1m.'},
        close: {...duration, description: 'Between the client closing the stream and its refund. Defaults to 1m.'},
      },
    },
    disputes: {
      type: 'object',
      description: 'How the client disputes a response (the other subscribers judge it).',
      additionalProperties: false,
      properties: {
        bond: {...amount, description: 'What the client pays per dispute (lost to the provider when the response was valid). Defaults to "1".'},
        commitWindow: {...duration, description: 'Time to commit a verdict. Defaults to 1m.'},
        revealWindow: {...duration, description: 'Time to reveal a verdict. Defaults to 1m.'},
      },
    },
    deposit: {...amount, description: 'Escrowed at creation to pay vouchers with (oGPU); top up later with `ogpu stream topup`. May be "0".'},
  },
} as const

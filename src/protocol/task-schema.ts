/**
 * The JSON Schema of a task prescription T = {D, M, I, f, e, H} (docs/protocol.md, "The task prescription"), built
 * from the fragments it shares with stream specs (./schema-fragments.ts). `ogpu task schema` prints it so editors
 * can validate and autocomplete spec files.
 */
import {amount, duration, modelName, modelSha256, modelSource, positiveAmount, specHeader, specName} from './schema-fragments.js'

export const TASK_SCHEMA_ID = 'https://ogpu.dev/schema/task-v1.json'

export const taskSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: TASK_SCHEMA_ID,
  title: 'ogpu batch task prescription',
  type: 'object',
  additionalProperties: false,
  required: ['version', 'kind', 'model', 'data', 'instructions', 'payment'],
  properties: {
    ...specHeader,
    kind: {const: 'batch', description: 'Task kind. Batch tasks run every data item once.'},
    name: specName('task'),
    model: {
      type: 'object',
      description: 'M: the model. Providers bid only when they hold this exact GGUF file.',
      additionalProperties: false,
      required: ['name', 'sha256'],
      properties: {
        name: {...modelName, description: 'Model name, for people.'},
        sha256: {...modelSha256, description: 'sha256 of the GGUF file: the model\'s identity.'},
        source: modelSource,
      },
    },
    data: {
      type: 'object',
      description: 'D: the items, as JSONL with one {id, prompt} or {id, messages} per line.',
      additionalProperties: false,
      required: ['uri'],
      properties: {
        uri: {type: 'string', pattern: '^(https?://|ipfs://|file:|data:|\\./|\\.\\./|/)', description: 'Where the JSONL lives: https, http, ipfs (through a gateway), file (one machine), data: (small sets), or a path relative to the spec.'},
        items: {type: 'integer', minimum: 1, description: 'Number of items; checked against the data when given.'},
        root: {type: 'string', pattern: '^0x[0-9a-fA-F]{64}$', description: 'Merkle root over the items; checked against the data when given.'},
      },
    },
    instructions: {
      type: 'object',
      description: 'I: how to run each item.',
      additionalProperties: false,
      required: ['maxTokens'],
      properties: {
        maxTokens: {type: 'integer', minimum: 1, maximum: 32_768, description: 'Maximum generated tokens per item.'},
        sampling: {
          type: 'object',
          description: 'Greedy by default (verifiable exactly); sampled output is verified more weakly.',
          additionalProperties: false,
          properties: {
            mode: {enum: ['greedy', 'sampled'], description: 'greedy (default) or sampled.'},
            temperature: {type: 'number', minimum: 0, maximum: 2},
            topK: {type: 'integer', minimum: 1},
            topP: {type: 'number', exclusiveMinimum: 0, maximum: 1},
            seed: {type: 'integer', minimum: 0},
          },
        },
        minVramGiB: {type: 'number', minimum: 0, description: 'Hardware floor: VRAM in GiB. 0 allows CPU providers.'},
        contextSize: {type: 'integer', minimum: 128, description: 'Context length the items need. Defaults to the model\'s.'},
        checkpoints: {type: 'integer', minimum: 1, maximum: 32, description: 'Number of checkpoints; each is validated and paid on its own. Defaults to 1.'},
        checkpointWindow: {...duration, description: 'Time the executor has for each checkpoint. Defaults to 10m.'},
      },
    },
    payment: {
      type: 'object',
      description: 'f: what the client pays.',
      additionalProperties: false,
      required: ['maxPrice'],
      properties: {
        maxPrice: {...positiveAmount, description: 'The most the client pays for the whole task (oGPU); bids are at or below it.'},
        councilFeePerVote: {...amount, description: 'Paid to each council member per checkpoint verdict (oGPU). Defaults to 1% of maxPrice.'},
        collateral: {...positiveAmount, description: 'Stake each bidder locks (oGPU). Defaults to maxPrice.'},
        latePenalty: {
          type: 'object',
          description: 'Optional: the payment decays linearly from softDeadline to hardDeadline after assignment.',
          additionalProperties: false,
          required: ['soft', 'hard'],
          properties: {soft: duration, hard: duration},
        },
      },
    },
    verification: {
      type: 'object',
      description: 'e: how the council checks the work.',
      additionalProperties: false,
      properties: {
        method: {enum: ['prefill', 'exact', 'none'], description: 'prefill (default): the council checks sampled outputs by one prefill pass; exact: the council regenerates sampled items and requires identical token ids; none: the council checks only that outputs match the committed roots (trust, plus the client\'s confirmation).'},
        council: {type: 'integer', minimum: 1, maximum: 15, description: 'Council size (other bidders who check each checkpoint). Defaults to 2.'},
        epsilon: {type: 'number', minimum: 0, maximum: 10, description: 'Logit margin for prefill verification. Defaults to 0.01 for greedy output (the executor makes it prefill-consistent; verifiers never go below 0.01), 0.1 for sampled output (verifiers never go below the model\'s quantization floor).'},
        maxRank: {type: 'integer', minimum: 1, maximum: 10, description: 'Largest allowed rank of a claimed token. Defaults to 2.'},
        sampleSize: {type: 'integer', minimum: 1, description: 'Items each council member checks per checkpoint. Defaults to 4.'},
        commitWindow: {...duration, description: 'Time to commit a verdict. Defaults to 2m.'},
        revealWindow: {...duration, description: 'Time to reveal a verdict. Defaults to 2m.'},
      },
    },
    halting: {
      type: 'object',
      description: 'H: when bidding stops, whichever comes first.',
      additionalProperties: false,
      properties: {
        maxBids: {type: 'integer', minimum: 1, maximum: 64, description: 'Stop after this many bids (the council comes from the staked pool, not from the bids). Defaults to 16.'},
        biddingWindow: {...duration, description: 'Stop bidding after this long. Defaults to 2m.'},
      },
    },
  },
} as const

/**
 * The registry of ogpu's error codes: every code an error of the hierarchy can carry, with its kind (which fixes the
 * exit code) and what it means. `--json` prints the code as `error.code`; scripts may depend on it, so a code is never
 * renamed. docs/errors.md is written from this registry by `node scripts/errors-doc.mjs`.
 *
 * Decoded contract reverts are `REVERT_<Name>` for each custom error of the ABIs ({@link RevertCode}); the lower-case
 * codes of the OpenAI error body that the servers answer (e.g. `invalid_request`) are another namespace, typed by
 * src/http.
 */
export type ErrorKind = 'bug' | 'user' | 'external' | 'cancelled'

export interface ErrorCodeInfo {
  readonly kind: ErrorKind
  /** One line: what went wrong. */
  readonly meaning: string
}

export const ERROR_CODES = {
  // The default code of each kind, for errors that name no code of their own.
  USER_ERROR: {kind: 'user', meaning: 'A user error that names no more specific code.'},
  EXTERNAL_ERROR: {kind: 'external', meaning: 'A failure outside ogpu that names no more specific code.'},
  BUG: {kind: 'bug', meaning: 'Something that should never happen: a bug in ogpu (please report it).'},
  CANCELLED: {kind: 'cancelled', meaning: 'The user cancelled (Ctrl-C, a declined prompt, an aborted operation).'},

  // Command line and input
  INVALID_ARGUMENTS: {kind: 'user', meaning: 'A flag or argument is unknown, missing or malformed.'},
  INVALID_ARGUMENT: {kind: 'user', meaning: 'A numeric option (unbonding period, block time) is out of range.'},
  INVALID_FLAGS: {kind: 'user', meaning: 'Two flags contradict each other.'},
  MISSING_VALUE: {kind: 'user', meaning: '`config set` was given a key but no value.'},
  MISSING_RPC: {kind: 'user', meaning: 'A command that needs a chain was given no --rpc URL.'},
  INVALID_AMOUNT: {kind: 'user', meaning: 'An oGPU amount is not a positive decimal number with at most 18 decimals.'},
  INVALID_ADDRESS: {kind: 'user', meaning: 'A value that must be an EVM address is not one.'},
  INVALID_ID: {kind: 'user', meaning: 'A stream or dispute id is negative.'},
  INVALID_TASK_ID: {kind: 'user', meaning: 'A task id is not a non-negative integer.'},
  INVALID_LIMIT: {kind: 'user', meaning: 'A list limit is not a positive integer.'},
  INVALID_STATUS: {kind: 'user', meaning: 'An unknown status was given to filter a list by.'},
  INVALID_STRATEGY: {kind: 'user', meaning: 'A bidding strategy is unknown, or its module is missing or exports no bid function.'},
  INVALID_PORT: {kind: 'user', meaning: 'A port is not a valid TCP port.'},
  INVALID_ENDPOINT: {kind: 'user', meaning: 'A provider endpoint is not an http(s) URL, or is longer than 256 bytes.'},
  INVALID_API_KEY: {kind: 'user', meaning: 'The gateway API key is empty.'},
  NOTHING_TO_UPDATE: {kind: 'user', meaning: '`stream update` was given nothing to change.'},
  FILE_NOT_FOUND: {kind: 'user', meaning: 'A file named on the command line or in a spec does not exist.'},
  FILE_UNREADABLE: {kind: 'user', meaning: 'A file exists but cannot be read.'},
  INVALID_YAML: {kind: 'user', meaning: 'A YAML file does not parse.'},

  // Settings and networks
  UNKNOWN_SETTING: {kind: 'user', meaning: 'A setting key is not one ogpu knows.'},
  INVALID_SETTING: {kind: 'user', meaning: 'A value is not valid for its setting.'},
  NETWORK_NOT_FOUND: {kind: 'user', meaning: 'No network file has this name.'},
  NETWORK_EXISTS: {kind: 'user', meaning: 'A network of this name exists already.'},
  NETWORK_FILE_INVALID: {kind: 'user', meaning: 'A network file is not valid JSON.'},
  NETWORK_FILE_OUTDATED: {kind: 'user', meaning: 'A network file predates the batch market (it has no TaskMarket address).'},
  INVALID_CHAIN_ID: {kind: 'user', meaning: "A network file's chain id is not a positive integer."},
  INVALID_RPC_URL: {kind: 'user', meaning: 'An RPC URL is not an http(s) URL.'},
  CHAIN_MISMATCH: {kind: 'user', meaning: 'The RPC endpoint serves another chain than the network expects.'},
  CONTRACTS_NOT_FOUND: {kind: 'user', meaning: 'No ogpu contracts (or not the expected ones) at the configured addresses.'},
  CONTRACTS_MISMATCH: {kind: 'user', meaning: "The StreamMarket uses another registry or token than the TaskMarket's."},
  NO_STREAM_MARKET: {kind: 'user', meaning: 'The network has no StreamMarket (its network file predates stream tasks).'},
  TOKEN_NOT_FOUND: {kind: 'user', meaning: 'No contract at the token address given to deploy.'},

  // Chain and RPC
  RPC_UNREACHABLE: {kind: 'external', meaning: 'The RPC endpoint does not answer.'},
  RPC_ERROR: {kind: 'external', meaning: 'The RPC endpoint answered with an error or failed mid-call.'},
  NETWORK_ERROR: {kind: 'external', meaning: 'A connection was refused, timed out or its host was not found.'},
  INSUFFICIENT_FUNDS: {kind: 'user', meaning: 'The wallet has no ETH to pay for gas.'},
  REVERTED: {kind: 'user', meaning: 'A transaction was reverted without a custom error ogpu can decode.'},
  TX_CONFLICT: {kind: 'external', meaning: 'The node refused a transaction that conflicts with another from the same wallet.'},
  TX_TIMEOUT: {kind: 'external', meaning: 'A transaction was not mined in time.'},
  ARTIFACT_MISSING: {kind: 'bug', meaning: 'A compiled contract artifact is missing from the package.'},
  UNEXPECTED: {kind: 'bug', meaning: 'A mined transaction did not emit the event it always emits.'},
  UNKNOWN_ENUM: {kind: 'bug', meaning: 'A contract returned an enum value ogpu does not know.'},

  // Wallets
  NO_WALLET: {kind: 'user', meaning: 'No wallet is selected and none was named.'},
  WALLET_NOT_FOUND: {kind: 'user', meaning: 'No wallet has this name.'},
  WALLET_EXISTS: {kind: 'user', meaning: 'A wallet of this name exists already.'},
  INVALID_NAME: {kind: 'user', meaning: 'A wallet or network name is empty, too long, or has characters a name may not have.'},
  INVALID_PRIVATE_KEY: {kind: 'user', meaning: 'A private key is not 32 bytes of hex.'},
  INVALID_MNEMONIC: {kind: 'user', meaning: 'A mnemonic is not a valid BIP-39 phrase.'},
  INVALID_KEYSTORE: {kind: 'user', meaning: 'A keystore file is not JSON or not a Web3 v3 keystore.'},
  KEYSTORE_UNSUPPORTED: {kind: 'user', meaning: 'A keystore uses a cipher or key derivation ogpu does not support.'},
  KEYSTORE_CORRUPT: {kind: 'user', meaning: "A keystore's key does not match its address."},
  NO_PASSWORD: {kind: 'user', meaning: 'A wallet needs a password and none was given (no terminal to ask on).'},
  WRONG_PASSWORD: {kind: 'user', meaning: 'The password does not unlock the wallet.'},
  WEAK_PASSWORD: {kind: 'user', meaning: 'A new password is too short.'},
  PASSWORD_MISMATCH: {kind: 'user', meaning: 'The two passwords typed differ.'},
  PASSWORD_FILE_MISSING: {kind: 'user', meaning: 'The --password-file does not exist.'},
  NOT_A_DEVNET: {kind: 'user', meaning: '`wallet fund` was used on a network that is not a devnet.'},

  // Staking and provider registration
  INSUFFICIENT_BALANCE: {kind: 'user', meaning: 'The wallet holds less oGPU than the amount asked for.'},
  INSUFFICIENT_FREE_STAKE: {kind: 'user', meaning: 'Less stake is free than the amount asked to unstake.'},
  NOTHING_TO_CLAIM: {kind: 'user', meaning: 'Nothing is unbonding, so nothing can be claimed.'},
  UNBONDING_NOT_OVER: {kind: 'user', meaning: 'The unbonding period is not over yet.'},
  NOT_REGISTERED: {kind: 'user', meaning: 'The wallet is not registered as a provider.'},
  NO_FREE_STAKE: {kind: 'user', meaning: 'The provider has no free stake to lock as collateral.'},
  DAEMON_RUNNING: {kind: 'user', meaning: 'A provider daemon for this wallet is already running.'},
  NO_MODELS: {kind: 'user', meaning: 'The provider has no model to serve: the model store is empty.'},

  // Models, GGUF files and inference
  MODEL_NOT_FOUND: {kind: 'user', meaning: 'No stored model matches the name or sha256.'},
  AMBIGUOUS_MODEL: {kind: 'user', meaning: 'A model reference matches several stored models.'},
  MODEL_REQUIRED: {kind: 'user', meaning: 'A command needs a model named and there is none or more than one.'},
  MODEL_NAME_TAKEN: {kind: 'user', meaning: 'Another model is already stored under this name.'},
  MODEL_MISMATCH: {kind: 'user', meaning: "A model's sha256 is not the one the task names."},
  BAD_MODEL_NAME: {kind: 'user', meaning: 'A model name has characters a model name may not have.'},
  BAD_MODEL_URI: {kind: 'user', meaning: 'A model source is not a file, an https URL or a Hugging Face URI ogpu knows.'},
  BAD_SHA256: {kind: 'user', meaning: 'A sha256 is not 64 hex digits.'},
  HASH_MISMATCH: {kind: 'user', meaning: 'A file does not have the expected sha256.'},
  NOT_GGUF: {kind: 'user', meaning: 'A file is not a GGUF model (a directory, not a regular file, or a wrong magic).'},
  BAD_GGUF: {kind: 'user', meaning: 'A GGUF file has a corrupt or unsupported header.'},
  MODEL_INDEX_CORRUPT: {kind: 'external', meaning: 'The model store index cannot be read or has an unknown format.'},
  COPY_FAILED: {kind: 'external', meaning: 'Copying a model into the store failed.'},
  DOWNLOAD_FAILED: {kind: 'external', meaning: 'Downloading a model failed.'},
  LOCK_TIMEOUT: {kind: 'external', meaning: 'A file lock was not released in time.'},
  GPU_NOT_AVAILABLE: {kind: 'user', meaning: 'The compute backend asked for (CUDA, Vulkan, Metal) is not available on this machine.'},
  INVALID_GPU: {kind: 'user', meaning: 'An unknown compute backend was asked for.'},
  LLAMA_LOAD_FAILED: {kind: 'external', meaning: 'llama.cpp could not be loaded.'},
  LLAMA_ERROR: {kind: 'external', meaning: 'llama.cpp failed on an operation.'},
  MODEL_LOAD_FAILED: {kind: 'external', meaning: 'A model (or its tokenizer) could not be loaded.'},
  CONTEXT_CREATE_FAILED: {kind: 'external', meaning: 'llama.cpp could not create a context of the size asked for.'},
  CONTEXT_LENGTH_EXCEEDED: {kind: 'user', meaning: 'The prompt (with the tokens to generate) does not fit the context.'},
  ENGINE_DISPOSED: {kind: 'user', meaning: 'The inference engine was used after it was disposed.'},
  BAD_ENGINE_OPTIONS: {kind: 'user', meaning: 'An inference engine option (context size, sequences, threads) is out of range.'},
  BAD_BENCHMARK_OPTIONS: {kind: 'user', meaning: 'A benchmark option (prompt tokens, generated tokens, streams) is out of range.'},
  BAD_SAMPLING: {kind: 'user', meaning: 'A sampling option (temperature, top_p, top_k, seed) is out of range.'},
  BAD_MAX_TOKENS: {kind: 'user', meaning: 'max_tokens is not a positive integer.'},
  BAD_PROMPT: {kind: 'user', meaning: 'A prompt is empty or malformed (no messages, no tokens, a wrong type).'},
  BAD_TOKEN_ID: {kind: 'user', meaning: "A token id is not in the model's vocabulary."},
  BAD_VERIFY_REQUEST: {kind: 'user', meaning: 'A verification request is malformed (epsilon, max rank, min probability, completion).'},
  EMPTY_PROMPT: {kind: 'user', meaning: 'The chat prompt is empty.'},
  ENDPOINT_FAILED: {kind: 'external', meaning: 'The OpenAI-compatible endpoint a provider forwards to failed.'},

  // Batch tasks
  INVALID_SPEC: {kind: 'user', meaning: 'A task or stream spec does not validate.'},
  INVALID_DATA: {kind: 'user', meaning: 'The task data (JSONL items) is malformed.'},
  INVALID_DATA_URI: {kind: 'user', meaning: 'A data: URI is malformed.'},
  DATA_TOO_LARGE: {kind: 'user', meaning: 'The task data is larger than the limit.'},
  DATA_DOWNLOAD_FAILED: {kind: 'external', meaning: 'The task data could not be downloaded.'},
  DATA_MISMATCH: {kind: 'user', meaning: 'The task data has another number of items than the task commits to.'},
  DATA_ROOT_MISMATCH: {kind: 'user', meaning: "The task data's Merkle root is not the one the task commits to."},
  SPEC_UNREADABLE: {kind: 'external', meaning: "A task's spec could not be fetched."},
  SPEC_INVALID: {kind: 'user', meaning: "A task's spec is not JSON."},
  SPEC_HASH_MISMATCH: {kind: 'user', meaning: "A task's spec does not hash to the spec hash on chain."},
  SPEC_MISMATCH: {kind: 'user', meaning: "A task's spec disagrees with the task on chain."},
  TASK_NOT_FOUND: {kind: 'user', meaning: 'No task has this id on the network.'},
  TASK_FINALIZED: {kind: 'external', meaning: 'The task was finalized before what was awaited happened.'},
  TASK_FAILED: {kind: 'external', meaning: 'The task failed: its executor missed a deadline or the council rejected a checkpoint.'},
  TASK_EXPIRED: {kind: 'external', meaning: 'The task expired without an executor.'},
  TASK_CANCELLED: {kind: 'external', meaning: 'The task was cancelled by its client.'},
  NOT_ASSIGNED: {kind: 'user', meaning: 'The task has no executor yet.'},
  NO_CHECKPOINT: {kind: 'user', meaning: 'The task has no committed checkpoint yet.'},
  NO_RESULTS: {kind: 'user', meaning: 'The task has no committed results to fetch yet.'},
  NOT_ALLOWED: {kind: 'user', meaning: 'The wallet is neither the client nor on the council of the task.'},
  EXECUTOR_UNREACHABLE: {kind: 'external', meaning: "The task's executor does not answer at its endpoint."},
  EXECUTOR_REFUSED: {kind: 'external', meaning: "The task's executor refused to serve the items."},
  UNVERIFIABLE_RESULTS: {kind: 'external', meaning: 'The executor served items that do not match the commitments on chain.'},

  // Provider state
  STATE_CORRUPT: {kind: 'external', meaning: "The provider's state snapshot or journal cannot be read."},
  STATE_VERSION: {kind: 'external', meaning: "The provider's state has a format version this ogpu does not read."},
  STATE_WRITE_FAILED: {kind: 'external', meaning: "The provider's journal cannot be written."},
  STATE_CLOSED: {kind: 'external', meaning: "The provider's journal was used after it was closed."},

  // Stream tasks
  UNKNOWN_STREAM: {kind: 'user', meaning: 'No stream has this id on the network.'},
  UNKNOWN_DISPUTE: {kind: 'user', meaning: 'No dispute has this id on the network.'},
  INVALID_SPEC_URI: {kind: 'user', meaning: 'A stream spec URI is empty or longer than the StreamMarket takes.'},
  STREAM_CLOSED: {kind: 'user', meaning: 'The stream is already closed.'},
  STREAM_CLOSING: {kind: 'user', meaning: 'The stream is already closing (its notice runs).'},
  STREAM_NOT_ACTIVE: {kind: 'user', meaning: 'The stream takes no more requests.'},
  NOT_STREAM_CLIENT: {kind: 'user', meaning: 'The wallet is not the client of the stream.'},
  INSUFFICIENT_DEPOSIT: {kind: 'user', meaning: "The stream's unreserved deposit is smaller than the allowance increase asked for."},
  SELF_DISPUTE: {kind: 'user', meaning: 'A provider cannot dispute its own response.'},
  NOT_SUBSCRIBED: {kind: 'user', meaning: 'The wallet is not subscribed to the stream.'},
  NOTICE_NOT_OVER: {kind: 'user', meaning: 'The unsubscribe notice is not over yet.'},
  NOTHING_TO_REDEEM: {kind: 'user', meaning: 'There is no voucher to redeem.'},
  INVALID_RECEIPT: {kind: 'user', meaning: "A receipt file is malformed, or its signature is not the provider's."},
  GATEWAY_RUNNING: {kind: 'user', meaning: 'Another ogpu process is the gateway of this stream (it holds the voucher book lock).'},
  VOUCHER_BOOK_CORRUPT: {kind: 'user', meaning: 'A voucher book is not valid JSON.'},
  VOUCHER_BOOK_MISMATCH: {kind: 'user', meaning: 'A voucher book belongs to another client or stream.'},
  PROVIDER_CALL_FAILED: {kind: 'external', meaning: 'A call from the gateway to a provider failed.'},

  // Servers and processes
  PORT_IN_USE: {kind: 'user', meaning: 'The port to listen on is already in use.'},
  LISTEN_FAILED: {kind: 'external', meaning: 'A server cannot listen on its host and port.'},
  ANVIL_MISSING: {kind: 'user', meaning: 'anvil (or another Foundry tool) is not installed for this platform.'},
  ANVIL_FAILED: {kind: 'external', meaning: 'anvil failed to start or stopped unexpectedly.'},
  DEVNET_RUNNING: {kind: 'user', meaning: 'A devnet is already running.'},
  DEVNET_NOT_RUNNING: {kind: 'user', meaning: 'No devnet is running.'},

  // The demo (npm run demo)
  DEMO_NO_CHECKOUT: {kind: 'user', meaning: 'The demo runs from an ogpu checkout only.'},
  DEMO_NO_TERMINAL: {kind: 'user', meaning: 'The demo TUI needs a terminal.'},
  DEMO_RUNNING: {kind: 'user', meaning: 'A demo is already running.'},
  DEMO_MODEL_MISMATCH: {kind: 'bug', meaning: "An example spec's model is not the demo's synthetic model."},
  DEMO_SPAWN_FAILED: {kind: 'external', meaning: 'A demo process could not be started.'},
  DEMO_PROCESS_EXITED: {kind: 'external', meaning: 'A demo process exited before it was ready.'},
  DEMO_TIMEOUT: {kind: 'external', meaning: 'A demo process did not get ready in time.'},
  DEMO_GATEWAY_FAILED: {kind: 'external', meaning: "The demo's gateway answered with an error."},
  DEMO_STATUS_FAILED: {kind: 'external', meaning: "A demo party's status route answered with an error."},
  DEMO_STREAM_SILENT: {kind: 'external', meaning: "The demo's stream gave no tokens."},
  DEMO_TASK_NOT_FINALIZED: {kind: 'user', meaning: "The demo's batch task ended without being finalized."},
} as const satisfies Record<string, ErrorCodeInfo>

/** A code of the registry, not counting the decoded reverts. */
export type RegisteredCode = keyof typeof ERROR_CODES

/**
 * The code of a decoded contract revert: `REVERT_` and the custom error's name from the ABIs. Kind `user`. src/errors
 * imports no other layer, so the name is any string here; src/chain's ContractRevertError narrows it to the typed
 * union of the ABIs' names (`REVERT_${RevertName}`).
 */
export type RevertCode = `REVERT_${string}`

/** Every code an error of the hierarchy can carry (docs/errors.md). */
export type ErrorCode = RegisteredCode | RevertCode

/** The registered codes of one kind. */
export type CodeOfKind<K extends ErrorKind> = {[C in RegisteredCode]: (typeof ERROR_CODES)[C]['kind'] extends K ? C : never}[RegisteredCode]

/** The prefix of {@link RevertCode}s. */
export const REVERT_CODE_PREFIX = 'REVERT_'

/** The registry entry of a code, or for a revert code the entry every revert shares; undefined when it is no code. */
export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  if (Object.hasOwn(ERROR_CODES, code)) return ERROR_CODES[code as RegisteredCode]
  if (code.startsWith(REVERT_CODE_PREFIX) && code.length > REVERT_CODE_PREFIX.length)
    return {kind: 'user', meaning: `The contract refused with the custom error ${code.slice(REVERT_CODE_PREFIX.length)}.`}
  return undefined
}

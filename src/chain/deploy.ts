import {ContractFactory, type JsonRpcProvider, type Signer, getAddress} from 'ethers'

import {UserError} from '../errors/index.js'
import {type ContractName, loadArtifact} from './artifacts.js'
import type {ContractAddresses} from './networks.js'
import {sendTx, type WaitOptions} from './tx.js'
import {registryAt} from './contracts/registry.js'
import {tokenAt} from './contracts/token.js'

export interface DeployOptions {
  provider: JsonRpcProvider
  /** The deployer; it becomes the admin of every contract (and the token's minter when it deploys the token). */
  signer: Signer
  /** Seconds a provider waits between `stake withdraw` and `stake claim`. Defaults to 7 days. */
  unbondingPeriod?: number
  /** Bounds of the batch market (windows, caps, slashing). Defaults to MAINNET_MARKET_CONFIG. */
  marketConfig?: MarketConfig
  /** Bounds of the stream market (council, collateral, notices, windows). Defaults to MAINNET_STREAM_CONFIG. */
  streamConfig?: StreamConfig
  /** Use this existing ERC-20 (with ERC-2612 permit) as oGPU instead of deploying OGPUToken. Defaults to deploying. */
  existingToken?: string
  tx?: WaitOptions
  /** Progress callback, one line per step. Defaults to silence. */
  onStep?: (message: string) => void
}

/** The batch market's protocol bounds (ITaskMarket.Config). Durations in seconds. */
export interface MarketConfig {
  maxBids: number
  maxCouncilSize: number
  maxCheckpoints: number
  /** Part of a council member's collateral slashed when it commits a verdict and does not reveal it. */
  nonRevealSlashBps: number
  /** Part of a rejected executor's slashed collateral that goes to the voters who rejected (the rest to the client). */
  slashRewardBps: number
  minCollateral: bigint
  minBiddingWindow: number
  maxBiddingWindow: number
  minCheckpointWindow: number
  maxCheckpointWindow: number
  minVerdictWindow: number
  maxVerdictWindow: number
  /** Seconds after submission before a task may be assigned, even with maxBids bids in, so honest providers always get to bid (at most minBiddingWindow). */
  minOpenTime: number
}

const DAY = 86_400
/** Bounds for a real chain: windows of minutes to weeks. */
export const MAINNET_MARKET_CONFIG: MarketConfig = {
  maxBids: 64,
  maxCouncilSize: 15,
  maxCheckpoints: 32,
  nonRevealSlashBps: 500,
  slashRewardBps: 5000,
  minCollateral: 10n ** 18n,
  minBiddingWindow: 60,
  maxBiddingWindow: 30 * DAY,
  minCheckpointWindow: 60,
  maxCheckpointWindow: 30 * DAY,
  minVerdictWindow: 60,
  maxVerdictWindow: 7 * DAY,
  minOpenTime: 60,
}
/** Bounds for the devnet: windows of seconds, so a whole task runs in a minute. */
export const DEVNET_MARKET_CONFIG: MarketConfig = {
  ...MAINNET_MARKET_CONFIG,
  minBiddingWindow: 2,
  minCheckpointWindow: 2,
  minVerdictWindow: 2,
  minOpenTime: 2,
}

/** The stream market's protocol bounds (IStreamMarket.Config). Durations in seconds. */
export interface StreamConfig {
  maxCouncilSize: number
  /** Part of a stream's collateral slashed per dispute verdict committed and not revealed. */
  nonRevealSlashBps: number
  /** Part of a slash (invalid response) or of the client's bond (valid response) that goes to the majority voters. */
  voterRewardBps: number
  minCollateral: bigint
  minDisputeBond: bigint
  minNotice: number
  maxNotice: number
  minVerdictWindow: number
  maxVerdictWindow: number
}

/** Stream bounds for a real chain: notices of minutes to a month, verdict windows of minutes to a week. */
export const MAINNET_STREAM_CONFIG: StreamConfig = {
  maxCouncilSize: 16,
  nonRevealSlashBps: 500,
  voterRewardBps: 5000,
  minCollateral: 10n ** 18n,
  minDisputeBond: 10n ** 18n,
  minNotice: 60,
  maxNotice: 30 * DAY,
  minVerdictWindow: 60,
  maxVerdictWindow: 7 * DAY,
}
/** Stream bounds for the devnet: notices and windows of seconds. */
export const DEVNET_STREAM_CONFIG: StreamConfig = {...MAINNET_STREAM_CONFIG, minNotice: 2, minVerdictWindow: 2}

export interface Deployment {
  contracts: ContractAddresses
  deployBlock: number
  admin: string
}

async function deploy(options: DeployOptions, name: ContractName, args: unknown[]): Promise<{address: string; block: number}> {
  const artifact = loadArtifact(name)
  const factory = new ContractFactory(artifact.abi, artifact.bytecode, options.signer)
  options.onStep?.(`Deploying ${name}`)
  const receipt = await sendTx(
    options.provider,
    `Deploy ${name}`,
    async () => {
      const contract = await factory.deploy(...args)
      return contract.deploymentTransaction()!
    },
    options.tx,
  )
  return {address: getAddress(receipt.contractAddress!), block: receipt.blockNumber}
}

/** Deploys the ogpu contracts and wires their roles. */
export async function deployContracts(options: DeployOptions): Promise<Deployment> {
  const admin = await options.signer.getAddress()
  const unbonding = options.unbondingPeriod ?? 7 * 24 * 3600
  if (!Number.isInteger(unbonding) || unbonding < 0 || unbonding > 365 * 24 * 3600)
    throw new UserError(`Unbonding period ${unbonding} s is out of range.`, {code: 'INVALID_ARGUMENT', hint: 'Use 0 to 31536000 seconds.'})
  let token: string
  let firstBlock: number | undefined
  if (options.existingToken) {
    token = getAddress(options.existingToken)
    if ((await options.provider.getCode(token)) === '0x')
      throw new UserError(`No contract at token address ${token}.`, {code: 'TOKEN_NOT_FOUND', hint: 'Check the address and the chain.'})
  } else {
    const deployed = await deploy(options, 'OGPUToken', [admin])
    token = deployed.address
    firstBlock = deployed.block
  }
  const registry = await deploy(options, 'ProviderRegistry', [token, unbonding, admin])
  const market = await deploy(options, 'TaskMarket', [token, registry.address, admin, options.marketConfig ?? MAINNET_MARKET_CONFIG])
  const stream = await deploy(options, 'StreamMarket', [token, registry.address, admin, options.streamConfig ?? MAINNET_STREAM_CONFIG])
  const registryContract = registryAt(registry.address, options.signer)
  const role = await registryContract.MARKET_ROLE()
  options.onStep?.('Granting the TaskMarket and the StreamMarket the market role in the registry')
  await sendTx(options.provider, 'Grant MARKET_ROLE to the TaskMarket', () => registryContract.grantRole(role, market.address), options.tx)
  await sendTx(options.provider, 'Grant MARKET_ROLE to the StreamMarket', () => registryContract.grantRole(role, stream.address), options.tx)
  return {
    contracts: {token, registry: registry.address, taskMarket: market.address, streamMarket: stream.address},
    deployBlock: firstBlock ?? registry.block,
    admin,
  }
}

/** Mints oGPU to many accounts at once: transactions are pipelined with explicit nonces, then awaited together. */
export async function mintMany(
  provider: JsonRpcProvider,
  minter: Signer,
  tokenAddress: string,
  grants: Array<{to: string; amount: bigint}>,
  tx?: WaitOptions,
): Promise<void> {
  const token = tokenAt(tokenAddress, minter)
  let nonce = await provider.getTransactionCount(await minter.getAddress(), 'pending')
  await Promise.all(
    grants.map(({to, amount}) => {
      const n = nonce++
      return sendTx(provider, `Mint oGPU to ${to}`, () => token.mint(to, amount, {nonce: n, gasLimit: 120_000n}), tx)
    }),
  )
}

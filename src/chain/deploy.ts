import {Contract, ContractFactory, type JsonRpcProvider, type Signer, getAddress} from 'ethers'

import {UserError} from '../errors/index.js'
import {loadArtifact} from './artifacts.js'
import type {ContractAddresses} from './networks.js'
import {sendTx, type WaitOptions} from './tx.js'

export interface DeployOptions {
  provider: JsonRpcProvider
  /** The deployer; it becomes the admin of every contract (and the token's minter when it deploys the token). */
  signer: Signer
  /** Seconds a provider waits between `stake withdraw` and `stake claim`. Defaults to 7 days. */
  unbondingPeriod?: number
  /** Use this existing ERC-20 (with ERC-2612 permit) as oGPU instead of deploying OGPUToken. Defaults to deploying. */
  existingToken?: string
  tx?: WaitOptions
  /** Progress callback, one line per step. Defaults to silence. */
  onStep?: (message: string) => void
}

export interface Deployment {
  contracts: ContractAddresses
  deployBlock: number
  admin: string
}

async function deploy(options: DeployOptions, name: 'OGPUToken' | 'ProviderRegistry', args: unknown[]): Promise<{address: string; block: number}> {
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
  return {contracts: {token, registry: registry.address}, deployBlock: firstBlock ?? registry.block, admin}
}

/** Mints oGPU to many accounts at once: transactions are pipelined with explicit nonces, then awaited together. */
export async function mintMany(
  provider: JsonRpcProvider,
  minter: Signer,
  tokenAddress: string,
  grants: Array<{to: string; amount: bigint}>,
  tx?: WaitOptions,
): Promise<void> {
  const token = new Contract(tokenAddress, loadArtifact('OGPUToken').abi, minter)
  let nonce = await provider.getTransactionCount(await minter.getAddress(), 'pending')
  await Promise.all(
    grants.map(({to, amount}) => {
      const n = nonce++
      return sendTx(provider, `Mint oGPU to ${to}`, () => token.getFunction('mint')(to, amount, {nonce: n, gasLimit: 120_000n}), tx)
    }),
  )
}

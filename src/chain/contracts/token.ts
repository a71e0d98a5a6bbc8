/** The oGPU token (OGPUToken.sol: ERC-20 with EIP-2612 permits and a minter role), through its typed binding. */
import type {ContractRunner} from 'ethers'

import {type OGPUToken, OGPUToken__factory} from './generated/index.js'

export type {OGPUToken} from './generated/index.js'

/** The token at `address`, read-only with a provider, or signing with a signer. */
export function tokenAt(address: string, runner: ContractRunner): OGPUToken {
  return OGPUToken__factory.connect(address, runner)
}

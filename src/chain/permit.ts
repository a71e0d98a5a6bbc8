import {Signature, type Wallet} from 'ethers'

import type {OGPUToken} from './contracts/token.js'

/**
 * Signs an ERC-2612 permit letting `spender` take `value` of the token, or returns undefined when the token does not
 * support permits (no ERC-5267 domain or no nonces): callers then fall back to approve.
 */
export async function signPermit(token: OGPUToken, signer: Wallet, spender: string, value: bigint, deadline: number): Promise<Signature | undefined> {
  let domain: {name: string; version: string; chainId: bigint; verifyingContract: string}
  let nonce: bigint
  try {
    const d = await token.eip712Domain()
    domain = {name: d[1], version: d[2], chainId: d[3], verifyingContract: d[4]}
    nonce = await token.nonces(signer.address)
  } catch {
    return undefined
  }
  const types = {
    Permit: [
      {name: 'owner', type: 'address'},
      {name: 'spender', type: 'address'},
      {name: 'value', type: 'uint256'},
      {name: 'nonce', type: 'uint256'},
      {name: 'deadline', type: 'uint256'},
    ],
  }
  return Signature.from(await signer.signTypedData(domain, types, {owner: signer.address, spender, value, nonce, deadline}))
}

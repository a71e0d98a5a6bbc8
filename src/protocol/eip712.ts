import {type TypedDataDomain, verifyTypedData, type Wallet, getAddress} from 'ethers'

/** The EIP-712 domain of every ogpu off-chain message: name "ogpu", version "1", the chain, the verifying contract. */
export function ogpuDomain(chainId: number, verifyingContract: string): TypedDataDomain {
  return {name: 'ogpu', version: '1', chainId, verifyingContract: getAddress(verifyingContract)}
}

/**
 * A signed request for batch items (the client or a council member asks the executor). It names the executor, so it
 * is good at that executor only, and it expires within MAX_ITEMS_REQUEST_TTL (protocol/items.ts).
 */
export const ITEMS_REQUEST_TYPES = {
  ItemsRequest: [
    {name: 'taskId', type: 'uint256'},
    {name: 'executor', type: 'address'},
    {name: 'first', type: 'uint256'},
    {name: 'count', type: 'uint256'},
    {name: 'expiry', type: 'uint64'},
  ],
}

export interface ItemsRequest {
  taskId: number
  /** The executor asked (checksummed): it verifies with its own address. */
  executor: string
  first: number
  count: number
  /** Unix seconds after which the request is refused. */
  expiry: number
}

export async function signItemsRequest(signer: Wallet, domain: TypedDataDomain, request: ItemsRequest): Promise<string> {
  return signer.signTypedData(domain, ITEMS_REQUEST_TYPES, request)
}

export function recoverItemsRequest(domain: TypedDataDomain, request: ItemsRequest, signature: string): string {
  return getAddress(verifyTypedData(domain, ITEMS_REQUEST_TYPES, request, signature))
}

/**
 * EIP-712 digests with the type encoders and domain separators cached, for the stream path's hot signatures (a
 * request signature per provider call, a receipt per response, an attestation per verification).
 *
 * ethers' `Wallet.signTypedData` builds a TypedDataEncoder from the types twice (to resolve names, then to hash) and
 * hashes the domain on every call; `verifyTypedData` builds one and hashes the domain too. That is about half the cost
 * of a signature. The digest here is the same value (`TypedDataEncoder.hash`: keccak256(0x1901 ‖ domainSeparator ‖
 * hashStruct(value))), so signatures are the same bytes (ethers signs deterministically, RFC 6979) and recovery gives
 * the same address. Values must hold addresses, not ENS names (the stream types do).
 */
import {concat, getAddress, keccak256, recoverAddress, type TypedDataDomain, TypedDataEncoder, type TypedDataField, Wallet} from 'ethers'

type Types = Record<string, TypedDataField[]>

const encoders = new WeakMap<Types, TypedDataEncoder>()
const separators = new Map<string, string>()

function separatorOf(domain: TypedDataDomain): string {
  const key = `${domain.name}\u0000${domain.version}\u0000${domain.chainId}\u0000${domain.verifyingContract}\u0000${domain.salt}`
  let separator = separators.get(key)
  if (separator === undefined) {
    separator = TypedDataEncoder.hashDomain(domain)
    if (separators.size > 64) separators.clear()
    separators.set(key, separator)
  }
  return separator
}

/** The EIP-712 digest of `value` (equal to `TypedDataEncoder.hash(domain, types, value)`). */
export function typedDataDigest(domain: TypedDataDomain, types: Types, value: Record<string, unknown>): string {
  let encoder = encoders.get(types)
  if (!encoder) {
    encoder = TypedDataEncoder.from(types)
    encoders.set(types, encoder)
  }
  return keccak256(concat(['0x1901', separatorOf(domain), encoder.hash(value)]))
}

/** The checksummed signer of an EIP-712 signature (as `getAddress(verifyTypedData(...))`); throws on a malformed one. */
export function recoverTypedData(domain: TypedDataDomain, types: Types, value: Record<string, unknown>, signature: string): string {
  return getAddress(recoverAddress(typedDataDigest(domain, types, value), signature))
}

/** A wallet whose `signTypedData` uses the cached encoders (same signatures as the wallet it copies). */
export class CachedTypedDataWallet extends Wallet {
  /** A copy of `wallet` (same key, same provider). */
  static of(wallet: Wallet): CachedTypedDataWallet {
    return wallet instanceof CachedTypedDataWallet ? wallet : new CachedTypedDataWallet(wallet.signingKey, wallet.provider)
  }

  override async signTypedData(domain: TypedDataDomain, types: Types, value: Record<string, unknown>): Promise<string> {
    return this.signingKey.sign(typedDataDigest(domain, types, value)).serialized
  }
}

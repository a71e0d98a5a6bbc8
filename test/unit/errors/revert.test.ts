/** Revert decoding and the chain error converter (src/chain/errors.ts), on errors built the way ethers builds them. */
import {getAddress, Interface, makeError} from 'ethers'
import {describe, expect, it} from 'vitest'

import {ERRORS_ABI} from '../../../src/chain/contracts/generated/reverts.js'
import {ContractRevertError, decodeRevert, errorText, fromChainError, revertOf} from '../../../src/chain/errors.js'
import {ExternalError, UserError} from '../../../src/errors/index.js'

const abi = new Interface(ERRORS_ABI)
const encode = (name: string, args: unknown[] = []) => abi.encodeErrorResult(name, args)
const provider = getAddress('0x00000000000000000000000000000000000000aa')
const tx = {to: '0x0000000000000000000000000000000000000001', data: '0x'}
const callException = (data: string | null, reason: string | null = null) =>
  makeError('execution reverted', 'CALL_EXCEPTION', {action: 'estimateGas', data, reason, transaction: tx, invocation: null, revert: null})

describe('decodeRevert', () => {
  it('gives the name, the arguments (bigints as strings) and the explained message and hint', () => {
    expect(decodeRevert(encode('TaskMarketUnknownTask', [7]))).toEqual({
      name: 'TaskMarketUnknownTask',
      args: ['7'],
      message: 'There is no task 7.',
      hint: 'Run `ogpu task list` to see the tasks.',
    })
    const oGPU = 10n ** 18n
    expect(decodeRevert(encode('ProviderRegistryInsufficientFreeStake', [provider, 5n * oGPU, 2n * oGPU]))).toMatchObject({
      name: 'ProviderRegistryInsufficientFreeStake',
      args: [provider, (5n * oGPU).toString(), (2n * oGPU).toString()],
      message: `Not enough free stake: ${provider} asked for 5 oGPU but only 2 oGPU is free (the rest is locked as collateral or unbonding).`,
    })
    expect(decodeRevert(encode('TaskMarketUnexpectedStatus', [3, 4, 1]))?.message).toBe('Task 3 is failed, but this needs it to be open.')
  })

  it('names a revert it has no explanation for, with its arguments', () => {
    expect(decodeRevert(encode('ReentrancyGuardReentrantCall'))).toEqual({
      name: 'ReentrancyGuardReentrantCall',
      args: [],
      message: 'The contract refused with ReentrancyGuardReentrantCall().',
      hint: undefined,
    })
    expect(decodeRevert(encode('ECDSAInvalidSignatureLength', [12]))?.message).toBe('The contract refused with ECDSAInvalidSignatureLength(12).')
  })

  it('gives undefined for no data, an unknown selector, or a plain Error(string)', () => {
    expect(decodeRevert('')).toBeUndefined()
    expect(decodeRevert('0x')).toBeUndefined()
    expect(decodeRevert('0xdeadbeef')).toBeUndefined()
    expect(decodeRevert(`0x12345678${'00'.repeat(32)}`)).toBeUndefined()
    // Error(string) and Panic(uint256) are built into ethers, not custom errors of the ABIs.
    expect(decodeRevert(abi.encodeErrorResult('Error(string)', ['no']))).toBeUndefined()
  })
})

describe('fromChainError', () => {
  it('turns a CALL_EXCEPTION with custom-error data into a ContractRevertError', () => {
    const error = callException(encode('StreamMarketUnknownStream', [4]))
    const converted = fromChainError(error)
    expect(converted).toBeInstanceOf(ContractRevertError)
    expect(converted).toBeInstanceOf(UserError)
    const revert = converted as ContractRevertError
    expect([revert.code, revert.revert, revert.args, revert.message, revert.cause]).toEqual(['REVERT_StreamMarketUnknownStream', 'StreamMarketUnknownStream', ['4'], 'There is no stream 4.', error])
    expect(revert.details).toEqual({revert: 'StreamMarketUnknownStream', args: ['4']})
  })

  it('finds the revert data in the JSON-RPC error, and down the error / cause chain', () => {
    const data = encode('TaskMarketUnknownTask', [9])
    const inInfo = Object.assign(new Error('could not coalesce error'), {info: {error: {code: 3, message: 'execution reverted', data}}})
    expect(revertOf(inInfo)).toBe('TaskMarketUnknownTask')
    const nested = new Error('send failed', {cause: Object.assign(new Error('rpc'), {error: {data}})})
    expect(revertOf(nested)).toBe('TaskMarketUnknownTask')
    expect(errorText(nested)).toBe('There is no task 9.')
  })

  it('maps CALL_EXCEPTION without custom-error data to REVERTED, with the reason when there is one', () => {
    expect(fromChainError(callException(null))?.toJSON()).toEqual({code: 'REVERTED', kind: 'user', message: 'The transaction was reverted.'})
    expect(fromChainError(callException(null, 'not allowed'))?.message).toBe('The transaction was reverted: not allowed.')
  })

  it('maps INSUFFICIENT_FUNDS to a user error with a hint, and transport failures to external errors', () => {
    const funds = fromChainError(makeError('insufficient funds for intrinsic transaction cost', 'INSUFFICIENT_FUNDS', {transaction: tx}))
    expect(funds).toBeInstanceOf(UserError)
    expect(funds?.toJSON()).toEqual({
      code: 'INSUFFICIENT_FUNDS',
      kind: 'user',
      message: 'Not enough ETH to pay for gas.',
      hint: 'Send ETH to this wallet (on the devnet: `ogpu wallet fund`).',
    })
    for (const code of ['NETWORK_ERROR', 'TIMEOUT', 'SERVER_ERROR'] as const) {
      const rpc = fromChainError(makeError('connection refused', code, {} as never))
      expect(rpc).toBeInstanceOf(ExternalError)
      expect([rpc?.code, rpc?.message, rpc?.exitCode]).toEqual(['RPC_ERROR', 'The RPC endpoint failed: connection refused', 3])
    }
    const conflict = fromChainError(makeError('nonce has already been used', 'NONCE_EXPIRED', {transaction: tx}))
    expect([conflict?.code, conflict?.kind, conflict?.message]).toEqual(['TX_CONFLICT', 'external', 'The node refused the transaction: nonce has already been used.'])
  })

  it('leaves errors it does not know alone', () => {
    expect(fromChainError(new Error('boom'))).toBeUndefined()
    expect(fromChainError('boom')).toBeUndefined()
    expect(fromChainError(makeError('bad', 'INVALID_ARGUMENT', {argument: 'x', value: 1}))).toBeUndefined()
  })
})

describe('revertOf and errorText', () => {
  it('read an error of the hierarchy as it is', () => {
    const revert = new ContractRevertError('There is no task 1.', 'TaskMarketUnknownTask', ['1'])
    expect(revertOf(revert)).toBe('TaskMarketUnknownTask')
    expect(errorText(revert)).toBe('There is no task 1.')
    expect(revertOf(new UserError('x'))).toBeUndefined()
    expect(errorText(new UserError('Bad input.'))).toBe('Bad input.')
  })

  it('convert chain errors, and fall back to the message or the value', () => {
    expect(errorText(makeError('connection refused', 'NETWORK_ERROR', {} as never))).toBe('The RPC endpoint failed: connection refused')
    expect(revertOf(callException(null))).toBeUndefined()
    expect(errorText(new Error('plain'))).toBe('plain')
    expect(revertOf(new Error('plain'))).toBeUndefined()
    expect(errorText('text')).toBe('text')
    expect(errorText(undefined)).toBe('undefined')
  })
})

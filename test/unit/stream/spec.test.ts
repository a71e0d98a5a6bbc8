import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'

import {parseUnits} from 'ethers'
import {afterAll, describe, expect, it} from 'vitest'

import {canonicalHash} from '../../../src/protocol/canonical.js'
import {loadStreamSpec, parseStreamSpec, publishStreamSpec, streamParamsOf} from '../../../src/stream/spec.js'

const SHA = 'd7b0506fba04129cbe372d920eee1b3f28641910de2496b441691bef57c7e9b2'
const minimal = `version: 1
kind: stream
model: {name: tiny, sha256: ${SHA}}
prices: {generated: "0.02", verified: "0.005"}
deposit: "50"
`
const dir = mkdtempSync(join(tmpdir(), 'ogpu-stream-spec-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

function errorOf(text: string): {message: string; code: string} {
  try {
    parseStreamSpec(text, {path: 's.yaml'})
  } catch (error) {
    return error as {message: string; code: string}
  }
  throw new Error('the spec was accepted')
}

describe('stream specs', () => {
  it('applies the documented defaults to a minimal spec', () => {
    const {spec} = parseStreamSpec(minimal)
    expect(spec).toEqual({
      model: {name: 'tiny', sha256: SHA},
      prices: {generated: parseUnits('0.02', 18), verified: parseUnits('0.005', 18)},
      council: {size: 1, method: 'optimistic', weightBps: 0},
      collateral: parseUnits('10', 18),
      maxDowntime: 300,
      notice: {unsubscribe: 60, close: 60},
      disputes: {bond: parseUnits('1', 18), commitWindow: 60, revealWindow: 60},
      deposit: parseUnits('50', 18),
    })
  })

  it('turns a weighted council weight into basis points, and needs it only there', () => {
    expect(parseStreamSpec(`${minimal}council: {size: 3, method: weighted, weight: 0.67}\n`).spec.council).toEqual({size: 3, method: 'weighted', weightBps: 6700})
    expect(errorOf(`${minimal}council: {method: weighted}\n`).message).toContain('s.yaml:6: council.weight (0..1) is required with council.method "weighted"')
    expect(errorOf(`${minimal}council: {method: unanimous, weight: 0.5}\n`).message).toContain('council.weight only applies to council.method "weighted"')
  })

  it('names every bad field with its line', () => {
    const error = errorOf(`version: 1
kind: stream
model: {name: tiny}
prices: {generated: "1,5", verified: "1"}
deposit: "1"
notice: {close: soon}
extra: 1
`)
    expect(error.code).toBe('INVALID_SPEC')
    expect(error.message).toContain('s.yaml:3: model needs either "sha256" or "path"')
    expect(error.message).toContain('s.yaml:4: prices.generated is not an oGPU amount')
    expect(error.message).toContain('s.yaml:6: notice.close is not a duration')
    expect(error.message).toContain('s.yaml:7: unknown field "extra"')
    expect(errorOf(minimal.replace('deposit: "50"\n', '')).message).toContain('missing field "deposit"')
    expect(errorOf(`${minimal}collateral: "0"\n`).message).toContain('s.yaml:6: collateral must be greater than zero')
    expect(errorOf(minimal.replace('kind: stream', 'kind: batch')).message).toContain('kind must be "stream"')
  })

  it('hashes a local model file, and refuses a path that disagrees with the sha256 given', async () => {
    const model = join(dir, 'model.gguf')
    writeFileSync(model, 'GGUF not really a model')
    const bySha = 'b3e6f6e3a1c1f8a7d0c39f7a6e1bba3b5b6a3b3e6f6e3a1c1f8a7d0c39f7a6e1'
    const spec = join(dir, 'path.yaml')
    writeFileSync(spec, minimal.replace(`sha256: ${SHA}`, 'path: ./model.gguf'))
    const published = await publishStreamSpec(loadStreamSpec(spec), {specsDir: join(dir, 'specs')})
    const {createHash} = await import('node:crypto')
    const expected = createHash('sha256').update(readFileSync(model)).digest('hex')
    expect(published.modelHash).toBe(`0x${expected}`)
    // The published terms name the hash, not the local path, and hash to specHash.
    const document = JSON.parse(readFileSync(fileURLToPath(published.specUri), 'utf8'))
    expect(document.model).toEqual({name: 'tiny', sha256: expected})
    expect(canonicalHash(document)).toBe(published.specHash)

    writeFileSync(spec, minimal.replace(`sha256: ${SHA}`, `path: ./model.gguf, sha256: ${bySha}`))
    await expect(publishStreamSpec(loadStreamSpec(spec), {specsDir: join(dir, 'specs')})).rejects.toThrow(/is not the sha256 of model.path/)
    writeFileSync(spec, minimal.replace(`sha256: ${SHA}`, 'path: ./missing.gguf'))
    await expect(publishStreamSpec(loadStreamSpec(spec), {specsDir: join(dir, 'specs')})).rejects.toThrow(/model.path .\/missing.gguf is not a file/)
  })

  it('maps a spec to the contract parameters, with the URI given', async () => {
    const loaded = parseStreamSpec(`${minimal}council: {size: 2, method: weighted, weight: 0.5}\nnotice: {unsubscribe: 30s, close: 2m}\n`)
    const published = await publishStreamSpec(loaded, {specsDir: join(dir, 'specs'), specUri: 'https://example.org/terms.json'})
    expect(streamParamsOf(loaded.spec, published)).toEqual({
      modelHash: `0x${SHA}`,
      specHash: published.specHash,
      specUri: 'https://example.org/terms.json',
      pricePerKTokenGenerated: parseUnits('0.02', 18),
      pricePerKTokenVerified: parseUnits('0.005', 18),
      councilSize: 2,
      responseMethod: 'weighted',
      weightBps: 5000,
      collateral: parseUnits('10', 18),
      maxDowntime: 300,
      unsubscribeNotice: 30,
      closeNotice: 120,
      commitWindow: 60,
      revealWindow: 60,
      disputeBond: parseUnits('1', 18),
      deposit: parseUnits('50', 18),
    })
    await expect(publishStreamSpec(loaded, {specsDir: join(dir, 'specs'), specUri: `https://example.org/${'x'.repeat(300)}`})).rejects.toThrow(/1\.\.256/)
  })
})

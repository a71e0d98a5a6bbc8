import {LineCounter, isMap, isPair, isScalar, parseDocument} from 'yaml'

import {UserError} from '../errors/index.js'

/**
 * Parses YAML into plain JSON values and keeps a way back from a field path to its line, so validation errors can
 * say where the problem is.
 */
export function parseYaml(text: string, label: string): {document: unknown; lineOf: (path: string[]) => number} {
  const lineCounter = new LineCounter()
  const doc = parseDocument(text, {lineCounter, prettyErrors: false, uniqueKeys: true})
  if (doc.errors.length > 0) {
    const first = doc.errors[0]!
    const line = lineCounter.linePos(first.pos[0]).line
    throw new UserError(`${label}:${line}: invalid YAML: ${first.message.split('\n')[0]}`, {code: 'INVALID_YAML', hint: 'Check indentation and quoting on that line.'})
  }
  const lineOf = (path: string[]): number => {
    let node: unknown = doc.contents
    let offset = 0
    for (const segment of path) {
      if (!isMap(node)) break
      const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === segment)
      if (!pair) break
      offset = (pair.key as {range?: [number, number, number]}).range?.[0] ?? offset
      node = pair.value
    }
    return lineCounter.linePos(offset).line
  }
  return {document: doc.toJS({maxAliasCount: 100}), lineOf}
}

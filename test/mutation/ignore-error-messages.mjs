// A StrykerJS "ignorer" plugin (used by stryker.config.mjs): mutants inside the
// *message* of an error or a log line are ignored. The project's contract is
// the error code — tests assert `err.code`, never messages (STYLE.md,
// PROTOCOL.md) — so a mutant that only changes message text cannot be killed
// by a test that follows the rules; it is listed as equivalent in
// docs/testing.md. Codes, statuses, causes and the fields of log objects are
// still mutated.
import { readFileSync } from 'node:fs'
import { PluginKind, declareValuePlugin } from '@stryker-mutator/api/plugin'

const REASON = 'error or log message text: tests assert codes, never messages (docs/testing.md)'

/** Every error class of the project, read from the error modules. */
const ERROR_CLASSES = new Set(['Error', 'TypeError', 'RangeError', 'SyntaxError'])
for (const file of ['packages/core/src/lib/errors.ts', 'packages/server/src/lib/errors.ts']) {
  let text = ''
  try {
    text = readFileSync(new URL(`../../${file}`, import.meta.url), 'utf8')
  } catch {
    continue
  }
  for (const match of text.matchAll(/export class (\w+) extends \w+/g)) ERROR_CLASSES.add(match[1])
}
ERROR_CLASSES.delete('WireAuthError') // its first argument is the code

/** Project helpers that throw or answer a coded error (or build its `{ error: { code, message } }` body), and the index of their message argument. */
const MESSAGE_HELPERS = { invalid: 0, codedError: 1, rejectRequest: 2, fail: 1, errorBody: 1 }

const LOG_METHODS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])

/** `name` of `x.name`, `x.#name` or `name`; '' otherwise. */
function propertyName(node) {
  if (node.type === 'Identifier') return node.name
  if (node.type !== 'MemberExpression' && node.type !== 'OptionalMemberExpression') return ''
  if (node.property.type === 'Identifier' && !node.computed) return node.property.name
  if (node.property.type === 'PrivateName') return node.property.id.name
  return ''
}

/** The index of the message argument of a call or `new`, or -1. */
function messageIndex(call) {
  const callee = call.callee
  if (callee.type === 'Identifier') {
    if (call.type !== 'NewExpression' && Object.hasOwn(MESSAGE_HELPERS, callee.name)) return MESSAGE_HELPERS[callee.name]
    if (call.type === 'NewExpression' && callee.name === 'WireAuthError') return 1
    if (call.type === 'NewExpression' && ERROR_CLASSES.has(callee.name)) return 0
    return -1
  }
  if (call.type === 'NewExpression' || (callee.type !== 'MemberExpression' && callee.type !== 'OptionalMemberExpression')) return -1
  // this.#log({ code, … }, 'message'): a class's own log helper.
  if (propertyName(callee) === 'log' && callee.object.type === 'ThisExpression') return 'strings'
  // log.error({ code, … }, 'message'), this.#deps.log.warn(…), this.#logger?.warn(…): the string arguments.
  if (LOG_METHODS.has(propertyName(callee)) && /^(log|logger)$/i.test(propertyName(callee.object))) return 'strings'
  return -1
}

const propertyKey = (property) => (property.key.type === 'Identifier' ? property.key.name : property.key.type === 'StringLiteral' ? property.key.value : '')

const isText = (node) =>
  node.type === 'StringLiteral' ||
  node.type === 'TemplateLiteral' ||
  (node.type === 'BinaryExpression' && node.operator === '+') ||
  // `n > 0 ? \`… ${n} more\` : '…'`: a choice between two message texts.
  (node.type === 'ConditionalExpression' && isText(node.consequent) && isText(node.alternate))

export const strykerPlugins = [
  declareValuePlugin(PluginKind.Ignore, 'error-messages', {
    shouldIgnore(path) {
      const parent = path.parentPath
      // `{ id, message: '…' }`: the text of a coded problem or error body.
      if (parent?.node.type === 'ObjectProperty' && path.key === 'value' && !parent.node.computed && propertyKey(parent.node) === 'message' && isText(path.node)) return REASON
      const type = parent?.node.type
      if (type !== 'CallExpression' && type !== 'OptionalCallExpression' && type !== 'NewExpression') return undefined
      if (path.listKey !== 'arguments') return undefined
      const index = messageIndex(parent.node)
      if (index === 'strings') return isText(path.node) ? REASON : undefined
      return index === path.key && isText(path.node) ? REASON : undefined
    },
  }),
]

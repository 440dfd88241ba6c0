/**
 * The compiler options of a strict TypeScript app that installed the
 * packages (ES modules resolved through `exports`, DOM and Node types): the
 * type tests check the documented examples and the consumer files under them.
 */
export const CONSUMER_COMPILER_OPTIONS = {
  target: 'ES2022',
  module: 'NodeNext',
  moduleResolution: 'NodeNext',
  lib: ['ES2023', 'DOM', 'DOM.Iterable'],
  types: ['node'],
  strict: true,
  noEmit: true,
}

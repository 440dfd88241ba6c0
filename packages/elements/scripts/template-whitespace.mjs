// An esbuild plugin for the served modules: drops the indentation inside lit's html`…` and
// css`…` templates, which esbuild's minifier leaves alone (template text is data to it).
// Each run of whitespace holding a line break becomes just those line breaks: the same
// rendering (HTML and CSS collapse whitespace; the elements use no <pre>), the same line
// numbers for the source map. In css`…` the spaces CSS never needs go too.
import { readFile } from 'node:fs/promises'

/**
 * `source` with the indentation of its html`` and css`` templates removed.
 * Throws when anything but whitespace changed (a scanning mistake must fail the build).
 */
export function trimTemplates(source) {
  let out = ''
  let i = 0
  const n = source.length
  /** Copies code up to the `}` that closes a `${`, or to the end. */
  function code(inExpression) {
    let depth = 0
    while (i < n) {
      const c = source[i]
      const next = source[i + 1]
      if (c === '/' && (next === '/' || next === '*')) {
        const end = next === '/' ? source.indexOf('\n', i) : source.indexOf('*/', i + 2) + 2
        const stop = end <= 0 ? n : end
        out += source.slice(i, stop)
        i = stop
      } else if (c === '"' || c === "'") {
        let j = i + 1
        while (j < n && source[j] !== c) j += source[j] === '\\' ? 2 : 1
        out += source.slice(i, j + 1)
        i = j + 1
      } else if (c === '`') {
        const tag = /\b(html|css)$/.exec(source.slice(Math.max(0, i - 4), i))?.[1] ?? null
        out += c
        i++
        template(tag)
      } else {
        if (c === '{') depth++
        if (c === '}') {
          if (depth === 0 && inExpression) return
          depth--
        }
        out += c
        i++
      }
    }
  }
  /** Copies a template literal's rest (after its opening backtick), trimming its text when `tag` is set. */
  function template(tag) {
    let text = ''
    const flush = () => {
      if (tag !== null) {
        text = text.replace(/[ \t]*\n[ \t\n]*/g, (run) => '\n'.repeat(run.split('\n').length - 1))
        // CSS: no space is needed after `{ ; , :` or around `}` (a space before `:` is a combinator, kept).
        if (tag === 'css') text = text.replace(/([{;,:]) +/g, '$1').replace(/ *([{}]) */g, '$1').replace(/;}/g, '}')
      }
      out += text
      text = ''
    }
    while (i < n) {
      const c = source[i]
      if (c === '\\') {
        text += source.slice(i, i + 2)
        i += 2
      } else if (c === '`') {
        flush()
        out += c
        i++
        return
      } else if (c === '$' && source[i + 1] === '{') {
        flush()
        out += '${'
        i += 2
        code(true)
        out += '}'
        i++
      } else {
        text += c
        i++
      }
    }
  }
  code(false)
  if (out.replace(/\s+|;(?=\s*})/g, '') !== source.replace(/\s+|;(?=\s*})/g, '')) throw new Error('trimTemplates changed more than whitespace')
  return out
}

/** The plugin: applies {@link trimTemplates} to the package's own TypeScript sources. */
export const templateWhitespace = {
  name: 'template-whitespace',
  setup(build) {
    build.onLoad({ filter: /\/elements\/src\/.*\.ts$/ }, async (args) => ({ contents: trimTemplates(await readFile(args.path, 'utf8')), loader: 'ts' }))
  },
}

// Scenario 8: size of the served elements bundle (packages/elements/dist/wire-auth.js),
// minified as built, then gzip (level 9) and brotli (quality 11).
import { readFileSync } from 'node:fs'
import { brotliCompressSync, constants, gzipSync } from 'node:zlib'
import { figure, report } from '../lib/result.mjs'

const file = new URL('../../../packages/elements/dist/wire-auth.js', import.meta.url)
const bundle = readFileSync(file)
const gzip = gzipSync(bundle, { level: 9 }).length
const brotli = brotliCompressSync(bundle, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: bundle.length } }).length
const kb = (n) => n / 1024

report({
  scenario: 'bundle',
  title: '8. Bundle size (wire-auth.js)',
  figures: [
    figure({ label: 'wire-auth.js minified', value: kb(bundle.length), unit: 'KB' }),
    figure({ label: 'wire-auth.js min+gz (level 9)', value: kb(gzip), unit: 'KB', goals: [{ op: '<=', target: 12, text: '≤ 12 KB' }] }),
    figure({ label: 'wire-auth.js min+brotli (q 11)', value: kb(brotli), unit: 'KB' }),
  ],
  notes: ['Lit (reactive-element, lit-html) and @lit/context are inside the bundle; it is the single file a page loads.'],
})

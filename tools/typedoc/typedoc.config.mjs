// TypeDoc configuration of `npm run docs:api` (scripts/docs-api.mjs): the API
// reference of the three packages, generated from their TSDoc into docs/api/
// as Markdown (committed, so it reads on any Git host).
import { OptionDefaults } from 'typedoc'

/** @type {Partial<import('typedoc').TypeDocOptions & import('typedoc-plugin-markdown').PluginOptions>} */
export default {
  name: 'wire-auth API reference',
  tsconfig: './tsconfig.json',
  entryPoints: [
    '../../packages/server/src/index.ts',
    '../../packages/server/src/mongodb.ts',
    '../../packages/server/src/redis.ts',
    '../../packages/core/src/index.ts',
    '../../packages/elements/src/index.ts',
  ],
  plugin: ['typedoc-plugin-markdown', './module-names.mjs'],
  out: '../../docs/api',
  readme: 'none',
  excludeInternal: true,
  excludePrivate: true,
  excludeExternals: true,
  hideGenerator: true,
  disableSources: true,
  cleanOutputDir: true,
  entryFileName: 'README.md',
  outputFileStrategy: 'modules',
  // The custom-elements-manifest tags of the elements (read by `cem analyze`).
  blockTags: [...OptionDefaults.blockTags, '@fires', '@element', '@attr', '@slot', '@csspart', '@cssprop'],
  validation: { notExported: false, invalidLink: true, notDocumented: false },
}

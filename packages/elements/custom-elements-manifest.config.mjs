// Configuration of `cem analyze` (run by scripts/build.mjs).
import { posix } from 'node:path'

/**
 * The shipped module for a source path: `src/lib/x.ts` → `dist/lib/x.js`;
 * a relative reference (`./lib/x.js`) is first resolved against `from`.
 */
function shipped(path, from) {
  if (typeof path !== 'string') return path
  // cem writes local superclass modules as `/src/…`: package-relative too.
  const absolute = path.startsWith('.') ? posix.join(posix.dirname(from), path) : path.replace(/^\//, '')
  if (!absolute.startsWith('src/')) return path
  return `dist/${absolute.slice('src/'.length).replace(/\.ts$|\.js$/, '')}.js`
}

/** Rewrites every `module`/`path` reference under `node` (leaving `package` references alone). */
function rewrite(node, from) {
  if (Array.isArray(node)) {
    for (const item of node) rewrite(item, from)
    return
  }
  if (node === null || typeof node !== 'object') return
  for (const [key, value] of Object.entries(node)) {
    if (key === 'module' && typeof value === 'string' && node.package === undefined) node[key] = shipped(value, from)
    else rewrite(value, from)
  }
}

export default {
  globs: ['src/**/*.ts'],
  outdir: '.',
  litelement: true,
  packagejson: false,
  plugins: [
    {
      // `#private` fields and methods are not API: keep them out of the manifest.
      name: 'wire-auth-drop-private-members',
      packageLinkPhase({ customElementsManifest }) {
        for (const module of customElementsManifest.modules) {
          for (const declaration of module.declarations ?? []) {
            if (declaration.members) declaration.members = declaration.members.filter((member) => member.privacy !== 'private' && !member.name.startsWith('#'))
          }
        }
      },
    },
    {
      // The package ships dist/*.js (and src/ for source maps): point the manifest at the modules a consumer imports.
      name: 'wire-auth-shipped-paths',
      packageLinkPhase({ customElementsManifest }) {
        for (const module of customElementsManifest.modules) {
          const from = module.path
          rewrite(module.declarations, from)
          rewrite(module.exports, from)
          module.path = shipped(module.path, from)
        }
      },
    },
  ],
}

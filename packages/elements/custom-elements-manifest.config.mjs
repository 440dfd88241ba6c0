// Configuration of `cem analyze` (run by scripts/build.mjs).
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
  ],
}

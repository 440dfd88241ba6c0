// Configuration of `cem analyze` (run by scripts/build.mjs).
export default {
  globs: ['src/**/*.ts'],
  outdir: '.',
  litelement: true,
  packagejson: false,
}

// A TypeDoc plugin: names each entry module by the specifier a user imports
// (`@wire-auth/server/mongodb`) instead of its path (`server/src/mongodb`),
// without putting @module tags into entry files that must hold only exports.
import { Converter, ReflectionKind } from 'typedoc'

const NAMES = {
  'server/src': '@wire-auth/server',
  'server/src/mongodb': '@wire-auth/server/mongodb',
  'server/src/redis': '@wire-auth/server/redis',
  'core/src': '@wire-auth/core',
  'elements/src': '@wire-auth/elements',
}

/** @param {import('typedoc').Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const module of context.project.getReflectionsByKind(ReflectionKind.Module)) {
      const name = NAMES[module.name]
      if (name !== undefined) module.name = name
    }
  })
}

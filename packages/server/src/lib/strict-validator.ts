import AjvCompiler from '@fastify/ajv-compiler'
import type { FastifySchemaCompiler } from 'fastify'

const build = AjvCompiler()({}, { customOptions: { coerceTypes: false } })

/**
 * The validator of wire-auth's own routes: Fastify's Ajv set-up without
 * type coercion, so a wrong type is a 400 `ERR_VALIDATION` instead of being
 * turned silently into a string (`null` → `""`, `["a@b.c"]` → `"a@b.c"`,
 * `0` → `"0"`) and reaching the handler. Fields a schema does not list are
 * still dropped where it says `additionalProperties: false` (OAuth
 * endpoints must ignore unknown parameters, RFC 6749 §3.2). Independent of
 * the host app's own Ajv options.
 * @internal
 */
export const strictValidatorCompiler: FastifySchemaCompiler<unknown> = (route) => build(route as Parameters<typeof build>[0])

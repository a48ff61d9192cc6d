import type { FastifySchemaCompiler } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile } from 'typebox/compile';
import { Value } from 'typebox/value';

/**
 * @fastify/type-provider-typebox's validator compiler, except that headers are checked as they arrive, like bodies:
 * every header schema here is a string, so TypeBox's Value.Convert (a schema walk per request, 4 % of the replay
 * path's CPU) could only coerce. Params and querystrings still convert (their numbers arrive as text).
 */
export const validatorCompiler: FastifySchemaCompiler<TSchema> = ({ schema, httpPart }) => {
  const check = Compile(schema);
  const asSent = httpPart === 'body' || httpPart === 'headers';
  return (value: unknown) => {
    const converted = asSent ? value : Value.Convert(schema, value);
    if (check.Check(converted)) return { value: converted };
    return { error: check.Errors(converted) as never };
  };
};

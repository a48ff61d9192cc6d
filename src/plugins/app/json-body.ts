import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../domain/errors.ts';
import { JsonParseError, parseStrictJson } from '../../lib/strict-json.ts';

/**
 * application/json (and +json) bodies go through the strict parser: exact number text for money, duplicate keys
 * and __proto__/constructor keys rejected (400), depth bounded. Anything else is a 415.
 */
export function registerJsonBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(
    /^application\/([a-z0-9.+-]*\+)?json$/i,
    { parseAs: 'string' },
    (_request, body, done) => {
      const text = body as string;
      if (text.length === 0) {
        done(new ProblemError('invalid_json', 'The request body is empty'), undefined);
        return;
      }
      try {
        done(null, parseStrictJson(text, { maxDepth: 8 }));
      } catch (error) {
        if (error instanceof JsonParseError) done(new ProblemError('invalid_json', error.message), undefined);
        else done(error as Error, undefined);
      }
    },
  );
}

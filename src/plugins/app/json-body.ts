import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../../lib/errors.ts';
import { JsonParseError, parseStrictJson } from '../../lib/strict-json.ts';

// JSON text must be UTF-8 (RFC 8259 §8.1). A lenient decode would turn invalid bytes into U+FFFD and store a
// description the client never sent; fatal makes them a 400. ignoreBOM keeps a BOM in the text for the parser to reject.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

// Fastify tests a RegExp parser against the normalised header *with* its parameters (`application/json;
// charset="utf-8"`), so the pattern must allow them; a charset other than UTF-8 is refused in the parser.
const JSON_MEDIA_TYPE = /^application\/([a-z0-9.+-]*\+)?json(;.*)?$/i;
const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;

/** The charset parameter of a Content-Type header, lower-cased, or undefined when there is none. */
function charsetOf(header: string | undefined): string | undefined {
  const match = header === undefined ? null : CHARSET.exec(header);
  return match === null ? undefined : (match[1] ?? match[2] ?? '').toLowerCase();
}

/**
 * application/json (and +json) bodies, with any parameters, go through the strict parser: UTF-8 only, exact number
 * text for money, duplicate keys and __proto__/constructor keys rejected (400), depth bounded. Anything else, and a
 * charset other than UTF-8, is a 415.
 */
export function registerJsonBody(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser(JSON_MEDIA_TYPE, { parseAs: 'buffer' }, (request, body, done) => {
    const charset = charsetOf(request.headers['content-type']);
    if (charset !== undefined && charset !== 'utf-8' && charset !== 'utf8') {
      done(new ProblemError('unsupported_media_type', 'Send the body as application/json in UTF-8'), undefined);
      return;
    }
    const bytes = body as Buffer;
    if (bytes.length === 0) {
      done(new ProblemError('invalid_json', 'The request body is empty'), undefined);
      return;
    }
    let text: string;
    try {
      text = UTF8.decode(bytes);
    } catch {
      done(new ProblemError('invalid_json', 'The request body is not valid UTF-8'), undefined);
      return;
    }
    try {
      done(null, parseStrictJson(text, { maxDepth: 8 }));
    } catch (error) {
      if (error instanceof JsonParseError) done(new ProblemError('invalid_json', error.message), undefined);
      else done(error as Error, undefined);
    }
  });
}

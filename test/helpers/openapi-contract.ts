// Compares the client's route contracts (packages/client/src/contract.ts) with an OpenAPI 3.0 document.
// Direction matters: what the client SENDS must be accepted by the server; what the server ANSWERS must fit
// the client's type. Returns one line per disagreement, so a failing test lists every drift at once.
import type { FieldSpec, JsonType, RouteContract } from '../../packages/client/src/index.ts';

export interface Schema {
  type?: string;
  nullable?: boolean;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  enum?: unknown[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  items?: Schema;
  $ref?: string;
}

interface Parameter {
  in: string;
  name: string;
  required?: boolean;
  schema?: Schema;
}

interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

type Direction = 'request' | 'response';
type ServerType = JsonType | 'integer';

/**
 * Every disagreement between the route and the document. `notes` collects what is not drift but worth knowing:
 * optional response fields the server may send that the client type does not declare (they are dropped from view).
 */
export function checkRoute(doc: OpenApiDocument, route: RouteContract, notes: string[] = []): string[] {
  const out: string[] = [];
  const where = `${route.method} ${route.path}`;
  const operation = doc.paths[route.path]?.[route.method.toLowerCase()];
  if (operation === undefined) return [`${where}: not in the OpenAPI document`];
  const resolve = (schema: Schema | undefined): Schema | undefined => {
    const name = schema?.$ref?.replace(/^#\/components\/schemas\//, '');
    return name === undefined ? schema : resolve(doc.components?.schemas?.[name]);
  };
  const params = operation.parameters ?? [];

  const pathNames = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
  const serverPath = params
    .filter((p) => p.in === 'path')
    .map((p) => p.name)
    .sort();
  if (pathNames.join() !== serverPath.join())
    out.push(`${where}: path parameters ${serverPath} on the server, ${pathNames} in the client`);

  const keyHeader = params.find((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key');
  if (route.idempotent && keyHeader === undefined)
    out.push(`${where}: the client sends Idempotency-Key, the server does not declare it`);
  if (!route.idempotent && keyHeader?.required === true)
    out.push(`${where}: the server requires Idempotency-Key, the client does not send it`);

  const query = params.filter((p) => p.in === 'query');
  const querySchema: Schema = {
    properties: Object.fromEntries(query.map((p) => [p.name, p.schema ?? {}])),
    required: query.filter((p) => p.required === true).map((p) => p.name),
  };
  const ctx: Context = { out, notes, resolve };
  compareFields(`${where} query`, route.query ?? {}, querySchema, 'request', ctx);

  const body = resolve(operation.requestBody?.content?.['application/json']?.schema);
  if (route.body !== undefined) {
    if (body === undefined) out.push(`${where}: the client sends a body, the server declares none`);
    else compareFields(`${where} body`, route.body, objectOf(body, resolve), 'request', ctx);
  } else if (operation.requestBody?.required === true) {
    out.push(`${where}: the server requires a body, the client sends none`);
  }

  const response = resolve(operation.responses?.[String(route.success)]?.content?.['application/json']?.schema);
  if (response === undefined) out.push(`${where}: no ${route.success} JSON response in the document`);
  else compare(`${where} ${route.success}`, route.response, response, 'response', ctx);
  return out;
}

type Resolve = (schema: Schema | undefined) => Schema | undefined;

interface Context {
  readonly out: string[];
  readonly notes: string[];
  readonly resolve: Resolve;
}

/** The alternatives a value may match (anyOf/oneOf flattened, $refs followed). */
function alternatives(schema: Schema, resolve: Resolve): Schema[] {
  const resolved = resolve(schema) ?? {};
  const list = resolved.anyOf ?? resolved.oneOf;
  if (list === undefined) return [resolved];
  return list.flatMap((s) => alternatives(s, resolve)).map((s) => (resolved.nullable ? { ...s, nullable: true } : s));
}

function typesOf(schema: Schema, resolve: Resolve): Set<ServerType> | 'any' {
  const out = new Set<ServerType>();
  for (const alt of alternatives(schema, resolve)) {
    if (alt.type === undefined) return 'any';
    out.add(alt.type as ServerType);
    if (alt.nullable === true) out.add('null');
  }
  return out;
}

/** The closed set of strings the schema allows, or undefined when any string is allowed. */
function enumOf(schema: Schema, resolve: Resolve): Set<string> | undefined {
  const strings = alternatives(schema, resolve).filter((s) => s.type === 'string');
  if (strings.length === 0 || strings.some((s) => s.enum === undefined)) return undefined;
  return new Set(strings.flatMap((s) => (s.enum ?? []).map(String)));
}

function objectOf(schema: Schema, resolve: Resolve): Schema {
  return alternatives(schema, resolve).find((s) => s.type === 'object') ?? {};
}

function compare(path: string, client: FieldSpec, server: Schema, dir: Direction, ctx: Context): void {
  const { out, resolve } = ctx;
  const serverTypes = typesOf(server, resolve);
  const clientTypes = Object.keys(client.types) as JsonType[];
  const shown = (set: Set<ServerType> | 'any'): string => (set === 'any' ? 'any type' : [...set].join('|'));
  if (serverTypes === 'any') {
    if (dir === 'response')
      out.push(`${path}: the server schema allows any type, the client declares ${clientTypes.join('|')}`);
  } else if (dir === 'request') {
    for (const t of clientTypes) {
      const accepted = serverTypes.has(t) || (t === 'number' && serverTypes.has('integer'));
      if (!accepted) out.push(`${path}: the client may send ${t}, the server accepts ${shown(serverTypes)}`);
    }
  } else {
    for (const t of serverTypes) {
      if (client.types[t === 'integer' ? 'number' : t] !== true)
        out.push(`${path}: the server may send ${t}, the client type allows ${clientTypes.join('|')}`);
    }
    if (client.integer === true && serverTypes.has('number'))
      out.push(`${path}: the client declares an integer, the server a number`);
  }

  const serverEnum = enumOf(server, resolve);
  const clientEnum = client.enum === undefined ? undefined : Object.keys(client.enum);
  if (dir === 'response' && clientEnum !== undefined) {
    if (serverEnum === undefined)
      out.push(`${path}: the client expects one of ${clientEnum}, the server may send any string`);
    else
      for (const v of serverEnum)
        if (!clientEnum.includes(v)) out.push(`${path}: the server may send "${v}", the client type lacks it`);
  }
  if (dir === 'request' && serverEnum !== undefined && client.types.string === true) {
    if (clientEnum === undefined)
      out.push(`${path}: the client may send any string, the server accepts only ${[...serverEnum]}`);
    else
      for (const v of clientEnum)
        if (!serverEnum.has(v)) out.push(`${path}: the client may send "${v}", the server rejects it`);
  }

  if (client.fields !== undefined) compareFields(path, client.fields, objectOf(server, resolve), dir, ctx);
  if (client.values !== undefined) {
    const values = objectOf(server, resolve).additionalProperties;
    if (typeof values === 'object') compare(`${path}.*`, client.values, values, dir, ctx);
    else out.push(`${path}: the client expects a map, the server schema declares no value schema`);
  }
  if (client.items !== undefined) {
    const items = alternatives(server, resolve).find((s) => s.type === 'array')?.items;
    if (items === undefined) out.push(`${path}: the client expects an array, the server schema has no items`);
    else compare(`${path}[]`, client.items, items, dir, ctx);
  }
}

function compareFields(
  path: string,
  fields: Readonly<Record<string, FieldSpec>>,
  server: Schema,
  dir: Direction,
  ctx: Context,
): void {
  const { out } = ctx;
  const properties = server.properties ?? {};
  const required = new Set(server.required ?? []);
  for (const [name, spec] of Object.entries(fields)) {
    const property = properties[name];
    if (property === undefined) {
      out.push(
        `${path}.${name}: the client ${dir === 'request' ? 'sends' : 'declares'} it, the server schema has no such field`,
      );
      continue;
    }
    if (dir === 'response' && spec.optional !== true && !required.has(name)) {
      out.push(`${path}.${name}: the client declares it always present, the server may omit it`);
    }
    if (dir === 'request' && spec.optional === true && required.has(name)) {
      out.push(`${path}.${name}: the server requires it, the client type makes it optional`);
    }
    compare(`${path}.${name}`, spec, property, dir, ctx);
  }
  for (const name of Object.keys(properties)) {
    if (name in fields) continue;
    if (required.has(name))
      out.push(
        `${path}.${name}: the server ${dir === 'request' ? 'requires' : 'always sends'} it, the client type lacks it`,
      );
    else
      ctx.notes.push(
        `${path}.${name}: the server ${dir === 'request' ? 'accepts' : 'may send'} it, the client type does not declare it`,
      );
  }
}

// Scenario 13's CaseSpec: the structured description of one hostile POST /charge (one part per dimension), which
// dimensions of it are hostile, and the arbitrary that draws it in its three mixes.
import fc from 'fast-check';
import {
  type ExtraPart,
  type FieldPart,
  type TextPart,
  descriptionPart,
  extrasPart,
  userIdPart,
} from './body-parts.ts';
import type { StringStyle } from './json-model.ts';
import { type MetaPart, metadataPart } from './metadata-parts.ts';
import { type MoneyPart, moneyPart } from './money-parts.ts';
import {
  type Auth,
  type ContentType,
  type HttpFault,
  type IdemKey,
  type RequestId,
  authPart,
  contentTypePart,
  httpFaultPart,
  keyPart,
  requestIdPart,
} from './request-parts.ts';
import { type Shape, type Size, type Structural, sizePart, structuralPart } from './structure-parts.ts';

export interface CaseSpec {
  readonly mode: 'mixed' | 'single' | 'clean';
  readonly auth: Auth;
  readonly contentType: ContentType;
  readonly key: IdemKey;
  readonly userId: FieldPart;
  readonly money: MoneyPart;
  readonly description: TextPart;
  readonly metadata: MetaPart;
  readonly extras: readonly ExtraPart[];
  readonly shape: Shape;
  readonly order: readonly number[];
  readonly ws: string;
  readonly keyStyle: StringStyle;
  readonly structural: Structural;
  readonly size: Size;
  readonly httpFault: HttpFault;
  readonly requestId: RequestId;
  readonly preferRaw: boolean;
  readonly chunks: number;
}

const isOkLabel = (label: string): boolean => label === 'ok' || label.startsWith('ok:');
const VALID_KEY_KINDS: ReadonlySet<IdemKey['kind']> = new Set(['uuid', 'bare', 'quoted', 'exact-255']);

/** Which dimensions of a spec carry something hostile (a fault, or for requestId a value the server must not echo). */
function hostileDimensions(spec: CaseSpec): (keyof CaseSpec)[] {
  const out: (keyof CaseSpec)[] = [];
  if (spec.auth.kind !== 'ok') out.push('auth');
  if (spec.contentType.kind !== 'ok') out.push('contentType');
  if (!VALID_KEY_KINDS.has(spec.key.kind)) out.push('key');
  for (const field of ['userId', 'money', 'description', 'metadata'] as const)
    if (!isOkLabel(spec[field].label)) out.push(field);
  if (spec.extras.length > 0) out.push('extras');
  if (spec.shape !== 'object') out.push('shape');
  if (spec.structural.kind !== 'none') out.push('structural');
  if (spec.size.kind === 'over-limit') out.push('size');
  if (spec.httpFault !== 'none') out.push('httpFault');
  if (spec.requestId.kind === 'hostile') out.push('requestId');
  return out;
}

/**
 * One generated request, in one of three mixes: "mixed" draws every dimension independently (several faults at once,
 * so the order in which the server checks them is what decides); "single" is a valid request with exactly one hostile
 * dimension taken from a mixed draw (so every fault is seen on its own, unmasked); "clean" is a valid charge whose
 * strings (description, metadata, key) are hostile but legal, and must be stored and echoed byte for byte.
 */
export function caseArbitrary(uid: number, clientKey: string): fc.Arbitrary<CaseSpec> {
  const common = {
    order: fc.array(fc.nat(), { minLength: 8, maxLength: 8 }),
    ws: fc.constantFrom('', '', '', ' ', '\n', '\t', '\r\n', ' \n\t '),
    keyStyle: fc.constantFrom<StringStyle>('json', 'json', 'json', 'escape-all'),
    requestId: requestIdPart,
    preferRaw: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
    chunks: fc.integer({ min: 0, max: 3 }),
  };
  const mixed: fc.Arbitrary<CaseSpec> = fc.record({
    ...common,
    mode: fc.constant<CaseSpec['mode']>('mixed'),
    auth: authPart(clientKey),
    contentType: contentTypePart,
    key: keyPart,
    userId: userIdPart(uid),
    money: moneyPart(),
    description: descriptionPart(),
    metadata: metadataPart(),
    extras: extrasPart,
    shape: fc.oneof(
      { weight: 40, arbitrary: fc.constant<Shape>('object') },
      {
        weight: 1,
        arbitrary: fc.constantFrom<Shape>('array-wrapped', 'string', 'null', 'number', 'true', 'empty-array'),
      },
    ),
    structural: structuralPart,
    size: sizePart,
    httpFault: httpFaultPart,
  });
  const clean: fc.Arbitrary<CaseSpec> = fc.record({
    ...common,
    mode: fc.constant<CaseSpec['mode']>('clean'),
    auth: fc.constant<Auth>({ kind: 'ok' }),
    contentType: contentTypePart.filter((c) => c.kind === 'ok'),
    key: keyPart.filter((k) => VALID_KEY_KINDS.has(k.kind)),
    userId: userIdPart(uid).filter((p) => isOkLabel(p.label)),
    money: moneyPart().filter((p) => isOkLabel(p.label)),
    description: descriptionPart().filter((p) => isOkLabel(p.label)),
    metadata: metadataPart().filter((p) => isOkLabel(p.label)),
    extras: fc.constant<ExtraPart[]>([]),
    shape: fc.constant<Shape>('object'),
    structural: fc.constant<Structural>({ kind: 'none' }),
    size: sizePart.filter((z) => z.kind !== 'over-limit'),
    httpFault: fc.constant<HttpFault>('none'),
    requestId: requestIdPart.filter((r) => r.kind !== 'hostile'),
  });
  const single = fc.record({ base: clean, donor: mixed, pick: fc.nat() }).map(({ base, donor, pick }): CaseSpec => {
    const hostile = hostileDimensions(donor);
    const dimension = hostile[pick % Math.max(1, hostile.length)];
    return dimension === undefined ? base : { ...base, mode: 'single', [dimension]: donor[dimension] };
  });
  return fc.oneof({ weight: 2, arbitrary: mixed }, { weight: 1, arbitrary: clean }, { weight: 2, arbitrary: single });
}

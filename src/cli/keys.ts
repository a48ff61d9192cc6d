// `picopay keys --client checkout [--admin]`: a new random API key and the entry to add for rotation. Add it next to
// the client's current key (several keys per client are allowed), roll out, move callers over, then remove the old.
import { generateApiKey } from '../auth/dev-keys.ts';
import { fail, parseArgs } from './common.ts';

const { values } = parseArgs({
  options: { client: { type: 'string', default: 'default' }, admin: { type: 'boolean', default: false } },
});
if (!/^[A-Za-z0-9_.-]{1,64}$/.test(values.client)) fail('--client must be 1-64 of A-Z a-z 0-9 _ . -');
const key = generateApiKey(values.admin ? 'sk_admin' : 'sk');
const variable = values.admin ? 'APP_ADMIN_API_KEYS' : 'APP_API_KEYS';
process.stdout.write(
  [
    `${values.client}:${key}`,
    '',
    `Append that entry to ${variable} (comma-separated), e.g.`,
    `  ${variable}="<current entries>,${values.client}:${key}"`,
    'Idempotency keys are scoped per client, so retries sent with the new key replay what the old key started.',
  ].join('\n') + '\n',
);

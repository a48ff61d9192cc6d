import { apiKeysFrom } from '../config.ts';
import type { KeyStore } from './key-ring.ts';

/**
 * `kill -HUP` re-reads the keys (APP_KEYS_FILE may have changed) and swaps the whole ring at once: requests already
 * authenticated keep going, the next ones see the new keys. A file that does not parse, or that would leave no key at
 * all, changes nothing and says why (the message names the entry, never a key).
 */
export function reloadKeysOnHangup(store: KeyStore, say: (message: string) => void): void {
  process.on('SIGHUP', () => {
    try {
      const entries = apiKeysFrom(process.env);
      if (entries.length === 0) throw new Error('no key would be left');
      store.replace(entries);
      say(`API keys reloaded (${store.size} keys)`);
    } catch (error) {
      say(`API keys not reloaded, the current keys stay: ${error instanceof Error ? error.message : String(error)}`);
    }
  });
}

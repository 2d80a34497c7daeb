import { synthesizedAssembly } from '../../sandbox/compose/synthesize';
import { ensureJestPrebundles } from './jest-prebundles';

/**
 * Puts the cloud assembly in the cache (synthesizing only when its key changed), and the bundle
 * jest loads @kubernetes/client-node from (jest-prebundles.ts), for `npm test`'s checks.
 */
if (ensureJestPrebundles()) console.log('@kubernetes/client-node bundled for jest');
synthesizedAssembly().then(
  (assembly) => console.log(`cloud assembly ${assembly.cached ? 'from the cache' : 'synthesized'}: ${assembly.assemblyDir}`),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);

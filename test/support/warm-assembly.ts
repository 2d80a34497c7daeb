import { synthesizedAssembly } from '../../sandbox/compose/synthesize';
import { ensureJestPrebundles } from './jest-prebundles';

/**
 * Puts the cloud assembly in the cache (synthesizing only when its key changed), and the bundle
 * jest loads @kubernetes/client-node from (jest-prebundles.ts), for `npm test`'s checks. A failure
 * of either prints its message and exits 1.
 */
async function warm(): Promise<void> {
  if (ensureJestPrebundles()) console.log('@kubernetes/client-node bundled for jest');
  const assembly = await synthesizedAssembly();
  console.log(`cloud assembly ${assembly.cached ? 'from the cache' : 'synthesized'}: ${assembly.assemblyDir}`);
}

warm().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(1);
});

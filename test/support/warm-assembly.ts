import { synthesizedAssembly } from '../../sandbox/compose/synthesize';

/** Puts the cloud assembly in the cache (synthesizing only when its key changed), for `npm test`'s checks. */
synthesizedAssembly().then(
  (assembly) => console.log(`cloud assembly ${assembly.cached ? 'from the cache' : 'synthesized'}: ${assembly.assemblyDir}`),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  },
);

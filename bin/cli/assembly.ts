import { synthesizedAssembly, type SynthesizedAssembly } from '../../sandbox/compose/synthesize';
import type { Output } from './output';

/**
 * The cloud assembly for a command: from the cache when the sources and config are unchanged,
 * otherwise synthesized behind one progress line (its bundling output only with --verbose).
 */
export function cliAssembly(configPath: string, out: Output): Promise<SynthesizedAssembly> {
  return synthesizedAssembly({
    configPath,
    verbose: out.verbose,
    onSynthesize: () => out.progress('synthesizing the CDK app (cdk-nag on, every function bundled; cached for the next run)'),
  });
}

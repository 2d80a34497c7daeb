import { buildApp } from '../../bin/app';

/**
 * The synthesis child of synthesize.ts: `tsx synthesize-child.ts <config> <outdir>`. It writes the
 * cloud assembly (cdk-nag on, every function bundled) to <outdir> and exits 0, or prints why not.
 */
const [configPath, outdir] = process.argv.slice(2);
if (!configPath || !outdir) {
  console.error('usage: synthesize-child.ts <config> <outdir>');
  process.exit(2);
}
try {
  buildApp({ configPath, outdir }).synth();
} catch (error) {
  console.error(error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  process.exit(1);
}

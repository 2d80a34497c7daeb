import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as esbuild from 'esbuild';

/**
 * @kubernetes/client-node 2.x is ESM only, so jest (CommonJS, jest.config.js) has swc transform
 * its ~100 files and 15 MB of generated API code, and every test file that imports the client
 * (through the Kubernetes adapter or directly) evaluates that transformed copy again in its own
 * module registry: 1.1-1.2 s of CPU per file warm, 3.5 s on a fresh clone's empty transform
 * cache (measured 2026-12-03). One esbuild bundle of the package, CommonJS, loads in 0.3 s and is
 * transformed by nobody. jest.config.js maps the package name to it (moduleNameMapper), so it
 * still goes through jest's registry, in the tests' realm, like any module; only the loading
 * differs, not the code (the Lambda bundles carry the same package through esbuild too).
 *
 * Rebuilt when the package's version, esbuild's or the lockfile changes (the bundle carries the
 * client's dependencies too, undici among them). Not minified: a failing test's stack trace
 * through the client stays readable.
 */
const root = join(__dirname, '..', '..');
export const PREBUNDLE_DIR = join(root, 'node_modules', '.cache', 'jest-prebundled');
export const KUBERNETES_CLIENT_PREBUNDLE = join(PREBUNDLE_DIR, 'kubernetes-client-node.cjs');

function versionOf(pkg: string): string {
  return (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Builds the bundle unless the one there was built from the same versions and lockfile; returns whether it built. */
export function ensureJestPrebundles(): boolean {
  const lockfile = createHash('sha256').update(readFileSync(join(root, 'package-lock.json'))).digest('hex');
  const key = `@kubernetes/client-node ${versionOf('@kubernetes/client-node')}, esbuild ${esbuild.version}, package-lock.json ${lockfile}\n`;
  const stamp = `${KUBERNETES_CLIENT_PREBUNDLE}.key`;
  if (existsSync(KUBERNETES_CLIENT_PREBUNDLE) && existsSync(stamp) && readFileSync(stamp, 'utf8') === key) return false;
  mkdirSync(PREBUNDLE_DIR, { recursive: true });
  const partial = `${KUBERNETES_CLIENT_PREBUNDLE}.${process.pid}.partial`;
  esbuild.buildSync({
    stdin: { contents: "export * from '@kubernetes/client-node';", resolveDir: root, loader: 'js' },
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    outfile: partial,
    logLevel: 'error',
  });
  // Renamed into place, so that a jest started meanwhile never reads half a file.
  renameSync(partial, KUBERNETES_CLIENT_PREBUNDLE);
  writeFileSync(stamp, key);
  return true;
}

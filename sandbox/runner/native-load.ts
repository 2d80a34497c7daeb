import { Module } from 'node:module';

type NodeLoader = { _load(request: string, parent: unknown, isMain: boolean): unknown; _nodeModulePaths(from: string): string[] };

/**
 * A package through Node's own loader, resolved from `fromDir`, once per process. Under jest a
 * plain import loads a package again in every test file's module registry (and transforms an ES
 * module package to CommonJS first); Node's loader keeps one copy per worker across its files.
 * Jest hands its own `require` to `createRequire`, so this goes to `Module._load` itself. In a
 * plain Node process (the CLI) it is the import it replaces. What the package returns comes from
 * Node's realm, not the test file's: test/support/polyfills.ts makes `instanceof Error` hold.
 */
export function loadNatively<T>(request: string, fromDir: string): T {
  const loader = Module as unknown as NodeLoader;
  const parent = new Module(`${fromDir}/native-load`) as InstanceType<typeof Module> & { paths: string[] };
  parent.paths = loader._nodeModulePaths(fromDir);
  return loader._load(request, parent, false) as T;
}

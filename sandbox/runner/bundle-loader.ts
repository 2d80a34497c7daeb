import { Module } from 'node:module';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Script } from 'node:vm';

/**
 * Loads a synthesized bundle as Node's CommonJS loader does (a `Module` with Node's own `require`
 * for what the bundle requires, in the process's main context, once per process), and keeps V8's
 * code cache for it next to the assembly.
 *
 * Why not `Module._load` alone: on Node 20 it compiles every 1-4 MB bundle from scratch in every
 * process, and jest runs each test file, and the CLI each `simulate`, in a process of its own:
 * about 0.6 s a bundle, 7 s for a rotation's first run. V8's code cache (`vm.Script` `cachedData`,
 * written after the bundle's first invocation so that the functions it ran are compiled in it)
 * takes that to about 0.2 s. The cache is V8's own format, checked by V8: a cache from another
 * V8 version or flags is rejected (`cachedDataRejected`) and the bundle compiles as before. The
 * file is named by the bundle's asset directory, which is the hash of its content, so a cache
 * never outlives its bundle; it lives in the assembly's cache directory, never in the temp directory.
 */
interface LoadedBundle {
  readonly exports: unknown;
  /** Writes the code cache once, after the bundle's first invocation ran its code. */
  saveCodeCache(): void;
}

/**
 * Bundles loaded in this process, kept where Node keeps its modules (`Module._cache`, which jest's
 * per-file module registry does not reset): a jest worker's later test files reuse the bundles its
 * earlier files compiled and warmed, as they did when `Module._load` loaded them.
 */
const LOADED = Symbol.for('certflow.loadedBundle');
type CachedModule = { [LOADED]?: LoadedBundle };

/**
 * Where a bundle's code cache lives: `<assembly>/.code-cache/<asset dir>-index.js.<naming>-stacks.v8`.
 * V8 keeps the file name a script was compiled under in its cache, and a process that accepts the
 * cache names its stack frames by that name, not the one it compiled with: so each stack naming
 * ({@link stackFileName}) has a cache of its own, and a cache written under jest's naming never
 * names the frames of a `certflow simulate`.
 */
function codeCachePath(bundlePath: string): string {
  const assetDir = dirname(bundlePath);
  const naming = generatedStacks() ? 'generated' : 'bundle';
  return join(dirname(assetDir), '.code-cache', `${basename(assetDir)}-${basename(bundlePath)}.${naming}-stacks.v8`);
}

/** The seed cache synthesis leaves: compiled, never run (see {@link writeSeedCodeCache}). */
function seedCachePath(bundlePath: string): string {
  return codeCachePath(bundlePath).replace(/\.v8$/, '.seed.v8');
}

/**
 * Written by synthesis, once per bundle: V8's cache of the bundle compiled but not run. It spares
 * every process that loads the bundle before any has run it (on a fresh clone: both jest workers,
 * the first `simulate`) the parse of the whole 1-4 MB file; what it lacks are the functions only a
 * run compiles, so the first process to run the bundle still writes the full cache, which then wins.
 * Measured on one workflow file (2026-12-03): 14.8 s with no cache, 11.7 s with the seed, 8.5 s
 * with the full cache.
 *
 * Synthesis writes the assembly in a scratch directory and renames it when it is whole, so the
 * seed is compiled under the name the bundle will be loaded from (`loadedFrom`): compiled under
 * its scratch path, every stack frame of the bundle named a directory that no longer exists.
 */
export function writeSeedCodeCache(bundlePath: string, loadedFrom: string = bundlePath): void {
  const statics = Module as unknown as ModuleStatics;
  const script = new Script(statics.wrap(readFileSync(bundlePath, 'utf8')), { filename: stackFileName(loadedFrom) });
  const path = seedCachePath(bundlePath);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, script.createCachedData());
}

function readCodeCache(path: string): Buffer | undefined {
  try {
    return readFileSync(path);
  } catch {
    return undefined;
  }
}

type NodeModule = InstanceType<typeof Module> & { filename: string; paths: string[]; loaded: boolean };
type ModuleStatics = {
  _cache: Record<string, CachedModule>;
  _load(request: string, parent: unknown, isMain: boolean): unknown;
  _resolveFilename(request: string, parent: unknown): string;
  _nodeModulePaths(from: string): string[];
  wrap(source: string): string;
};

/**
 * The file name the bundle's stack frames carry. Jest replaces `Error.prepareStackTrace` with one
 * that maps every frame through the source map next to the file it names, and it keeps one map
 * cache per test file: each test file that formatted a stack through a bundle decoded its 1-4 MB
 * map again (in the Kubernetes fault matrix, 0.75 s of CPU and half its garbage collection).
 * CERTFLOW_BUNDLE_STACKS=generated (set by the test setup) names a path that does not exist, so
 * the frames keep the bundle's own positions; unset, the frames name the bundle, whose map Node's
 * --enable-source-maps (set in every deployed function) reads.
 */
function stackFileName(bundlePath: string): string {
  return generatedStacks() ? `${bundlePath}:generated` : bundlePath;
}

function generatedStacks(): boolean {
  return process.env.CERTFLOW_BUNDLE_STACKS === 'generated';
}

export function loadBundle(bundlePath: string): LoadedBundle {
  const statics = Module as unknown as ModuleStatics;
  const known = statics._cache[bundlePath]?.[LOADED];
  if (known) return known;
  const cachePath = codeCachePath(bundlePath);
  const fullCache = readCodeCache(cachePath);
  const cachedData = fullCache ?? readCodeCache(seedCachePath(bundlePath));
  const script = new Script(statics.wrap(readFileSync(bundlePath, 'utf8')), { filename: stackFileName(bundlePath), ...(cachedData ? { cachedData } : {}) });
  const module = new Module(bundlePath) as NodeModule;
  module.filename = bundlePath;
  module.paths = statics._nodeModulePaths(dirname(bundlePath));
  // The bundle's own requires (Node's built-ins) go through Node's loader, not jest's registry.
  const requireFromBundle = Object.assign((request: string) => statics._load(request, module, false), { resolve: (request: string) => statics._resolveFilename(request, module) });
  const wrapper = script.runInThisContext() as (exports: unknown, require: unknown, module: unknown, filename: string, dirname: string) => void;
  wrapper.call(module.exports, module.exports, requireFromBundle, module, bundlePath, dirname(bundlePath));
  module.loaded = true;
  const needsCache = !fullCache || script.cachedDataRejected === true;
  let saved = !needsCache;
  const bundle: LoadedBundle = {
    exports: module.exports,
    saveCodeCache() {
      if (saved) return;
      saved = true;
      try {
        mkdirSync(dirname(cachePath), { recursive: true });
        // Written beside and renamed: a process loading the bundle meanwhile reads a whole cache or none.
        const partial = `${cachePath}.${process.pid}.partial`;
        writeFileSync(partial, script.createCachedData());
        renameSync(partial, cachePath);
      } catch {
        // A read-only assembly keeps working, only without the cache.
      }
    },
  };
  Object.assign(module, { [LOADED]: bundle });
  statics._cache[bundlePath] = module as unknown as CachedModule;
  return bundle;
}

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import type { CfnTemplate } from '../runner/template-resolver';
import { repoRoot } from '../../lib/repo-root';
import { writeSeedCodeCache } from '../runner/bundle-loader';

/**
 * One synthesized cloud assembly per set of inputs, shared by the CLI (`simulate`, `sandbox`,
 * ...), the benchmarks and the test run. Synthesis (cdk-nag and 22 esbuild bundles) costs 20-60 s
 * on 2 cores, so it runs only when the key changes: a hash of every input that can change the
 * template or a bundle. The assembly lives under node_modules/.cache/certflow/, never in the temp
 * directory, and a synthesis that is interrupted leaves nothing behind.
 */

const REPO_ROOT = repoRoot();
/** Everything synthesis reads: the app, the constructs, the functions it bundles, the toolchain. */
const SOURCE_DIRS = ['bin', 'lib', 'functions'];
const SOURCE_FILES = ['package-lock.json', 'cdk.json', 'tsconfig.json'];
const DEFAULT_CONFIG = join(REPO_ROOT, 'config', 'econgraph.json');
/** Assemblies kept besides the one in use: enough for switching branches, bounded on disk. */
const KEEP_ASSEMBLIES = 3;

export interface SynthesizedAssembly {
  template: CfnTemplate;
  templatePath: string;
  /** The cloud assembly directory: the template and every function's bundle (`asset.<hash>/`). */
  assemblyDir: string;
  /** True when the assembly came from the cache and nothing was synthesized. */
  cached: boolean;
  key: string;
}

export interface SynthesizeOptions {
  /** The deployment config. @default config/econgraph.json */
  configPath?: string;
  /** Stream synthesis output (bundling lines, warnings) to stderr instead of hiding it. */
  verbose?: boolean;
  /** Where the cache lives. @default node_modules/.cache/certflow */
  cacheDir?: string;
  /** Called once when there is no cached assembly and synthesis starts (for a progress line). */
  onSynthesize?: () => void;
}

export class SynthesisError extends Error {
  override readonly name = 'SynthesisError';
}

export function defaultCacheDir(): string {
  return join(REPO_ROOT, 'node_modules', '.cache', 'certflow');
}

/** The cache key: sources, config contents, lockfile and Node's major version. */
export function assemblyKey(configPath: string = DEFAULT_CONFIG): string {
  const hash = createHash('sha256');
  const files = [...SOURCE_DIRS.flatMap((dir) => listFiles(join(REPO_ROOT, dir))), ...SOURCE_FILES.map((file) => join(REPO_ROOT, file))].sort();
  for (const file of files) {
    if (!existsSync(file)) continue;
    hash.update(relative(REPO_ROOT, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  hash.update('config\0').update(readFileSync(resolve(configPath)));
  hash.update(`node${process.versions.node.split('.')[0]}`);
  return hash.digest('hex').slice(0, 20);
}

/** The cached assembly for these inputs, synthesizing it first when there is none. */
export async function synthesizedAssembly(options: SynthesizeOptions = {}): Promise<SynthesizedAssembly> {
  const configPath = resolve(options.configPath ?? DEFAULT_CONFIG);
  const cacheDir = options.cacheDir ?? defaultCacheDir();
  const key = assemblyKey(configPath);
  const assemblyDir = join(cacheDir, `assembly-${key}`);
  let cached = true;
  if (!existsSync(join(assemblyDir, 'manifest.json'))) {
    cached = false;
    options.onSynthesize?.();
    mkdirSync(cacheDir, { recursive: true });
    const scratch = join(cacheDir, `.partial-${key}-${process.pid}`);
    rmSync(scratch, { recursive: true, force: true });
    try {
      await synthesizeInChild(configPath, scratch, options.verbose ?? false);
      seedBundleCodeCaches(scratch, assemblyDir);
      // A rename is atomic: a reader sees no assembly or a whole one. Another process may have
      // finished the same key first; its assembly is identical, so ours is dropped.
      if (existsSync(assemblyDir)) rmSync(scratch, { recursive: true, force: true });
      else renameSync(scratch, assemblyDir);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    pruneAssemblies(cacheDir, assemblyDir);
  }
  const templatePath = findTemplate(assemblyDir);
  return { template: readTemplate(templatePath), templatePath, assemblyDir, cached, key };
}

/** V8's seed cache for every function bundle of the assembly (bundle-loader.ts says why), for the stack naming of this process. */
function seedBundleCodeCaches(scratch: string, assemblyDir: string): void {
  for (const entry of readdirSync(scratch)) {
    const bundle = join(scratch, entry, 'index.js');
    // Compiled under the path the bundle is loaded from once the scratch directory is renamed.
    if (entry.startsWith('asset.') && existsSync(bundle)) writeSeedCodeCache(bundle, join(assemblyDir, entry, 'index.js'));
  }
}

export function readTemplate(path: string): CfnTemplate {
  return JSON.parse(readFileSync(path, 'utf8')) as CfnTemplate;
}

function findTemplate(assemblyDir: string): string {
  const manifest = JSON.parse(readFileSync(join(assemblyDir, 'manifest.json'), 'utf8')) as {
    artifacts?: Record<string, { type?: string; properties?: { templateFile?: string } }>;
  };
  const stacks = Object.values(manifest.artifacts ?? {}).filter((artifact) => artifact.type === 'aws:cloudformation:stack');
  const templateFile = stacks[0]?.properties?.templateFile;
  if (stacks.length !== 1 || !templateFile) throw new SynthesisError(`expected exactly one stack in the cloud assembly ${assemblyDir}, found ${stacks.length}`);
  return join(assemblyDir, templateFile);
}

/**
 * Synthesis runs in a child process in its own process group: its output is captured (shown only
 * with --verbose or when it fails), and Ctrl-C stops it and removes the partial assembly instead of
 * printing a bundling stack trace.
 */
function synthesizeInChild(configPath: string, outdir: string, verbose: boolean): Promise<void> {
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const scratchTmp = `${outdir}.tmp`;
  mkdirSync(scratchTmp, { recursive: true });
  const child = spawn(tsx, [join(REPO_ROOT, 'sandbox', 'compose', 'synthesize-child.ts'), configPath, outdir], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', verbose ? 'inherit' : 'pipe', verbose ? 'inherit' : 'pipe'],
    // Synthesis and tsx write scratch files to TMPDIR: keep them in the cache, never in /tmp.
    env: { ...process.env, TMPDIR: scratchTmp, CDK_DISABLE_CLI_TELEMETRY: 'true', CDK_DISABLE_VERSION_CHECK: 'true' },
  });
  const captured: Buffer[] = [];
  child.stdout?.on('data', (chunk: Buffer) => captured.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => captured.push(chunk));
  const stop = (signal: NodeJS.Signals) => {
    if (child.pid !== undefined) {
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
    rmSync(outdir, { recursive: true, force: true });
    rmSync(scratchTmp, { recursive: true, force: true });
    process.stderr.write('\ncertflow: synthesis interrupted; nothing was kept\n');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  const onInt = () => stop('SIGINT');
  const onTerm = () => stop('SIGTERM');
  process.once('SIGINT', onInt);
  process.once('SIGTERM', onTerm);
  return new Promise((resolvePromise, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      rmSync(scratchTmp, { recursive: true, force: true });
      process.off('SIGINT', onInt);
      process.off('SIGTERM', onTerm);
      if (code === 0) return resolvePromise();
      const output = Buffer.concat(captured).toString('utf8').trim().split('\n').slice(-30).join('\n');
      reject(new SynthesisError(`synthesizing the CDK app failed (${signal ?? `exit ${code}`})${output ? `:\n${output}` : ''}`));
    });
  });
}

/** Keeps the newest assemblies; removes partial ones whose process is gone. */
function pruneAssemblies(cacheDir: string, current: string): void {
  const entries = readdirSync(cacheDir).map((name) => ({ name, path: join(cacheDir, name) }));
  for (const entry of entries.filter((e) => e.name.startsWith('.partial-'))) {
    const pid = Number(/^\.partial-[0-9a-f]+-(\d+)/.exec(entry.name)?.[1]);
    if (!processAlive(pid)) rmSync(entry.path, { recursive: true, force: true });
  }
  const assemblies = entries
    .filter((e) => e.name.startsWith('assembly-') && e.path !== current)
    .map((e) => ({ ...e, mtime: statSync(e.path).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const old of assemblies.slice(KEEP_ASSEMBLIES - 1)) rmSync(old.path, { recursive: true, force: true });
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

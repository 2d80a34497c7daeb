import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Module } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { loadBundle, writeSeedCodeCache } from '../../sandbox/runner/bundle-loader';

/**
 * The bundles' V8 code caches (sandbox/runner/bundle-loader.ts): synthesis leaves a seed per
 * bundle, V8 accepts it for the source the loader compiles, and the first process to run a bundle
 * still writes the full cache, once. V8 is the judge of a cache, not the loader. The stack frames
 * of a bundle are judged by V8's own stack trace: a code cache carries the file name it was
 * compiled under, and the process that accepts it names its frames so.
 */
describe('the code caches of the function bundles', () => {
  let assembly: string;
  beforeEach(() => {
    assembly = mkdtempSync(join(tmpdir(), 'certflow-code-cache-'));
  });
  afterEach(() => rmSync(assembly, { recursive: true, force: true }));

  function bundle(name: string, root: string = assembly): string {
    const dir = join(root, `asset.${name}`);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'index.js');
    // Large enough that V8 keeps a real cache for it.
    const padding = Array.from({ length: 200 }, (_, index) => `function helper${index}(x) { return x + ${index}; }`).join('\n');
    writeFileSync(path, `${padding}\nexports.handler = async (event) => ({ echoed: helper7(event.n) });\nexports.stack = () => new Error('where').stack;\n`);
    return path;
  }
  // jest's naming (test/support/polyfills.ts sets CERTFLOW_BUNDLE_STACKS=generated for every test).
  const cacheFile = (name: string, kind: 'v8' | 'seed.v8', naming: 'generated' | 'bundle' = 'generated') => join(assembly, '.code-cache', `asset.${name}-index.js.${naming}-stacks.${kind}`);
  const frameOf = (loaded: { exports: unknown }) => ((loaded.exports as { stack(): string }).stack().split('\n')[1] ?? '').trim();

  it('writes a seed that V8 accepts for the source the loader compiles, and no full cache yet', () => {
    const path = bundle('seeded');

    writeSeedCodeCache(path);

    const seed = readFileSync(cacheFile('seeded', 'seed.v8'));
    const wrapped = (Module as unknown as { wrap(source: string): string }).wrap(readFileSync(path, 'utf8'));
    const script = new Script(wrapped, { cachedData: seed });
    const changed = new Script(`${wrapped}\n`, { cachedData: seed });
    expect(seed.length).toBeGreaterThan(0);
    expect(script.cachedDataRejected).toBe(false);
    expect(changed.cachedDataRejected).toBe(true);
    expect(existsSync(cacheFile('seeded', 'v8'))).toBe(false);
  });

  it('loads a seeded bundle, and writes the full cache after its first run, once', async () => {
    const path = bundle('first-run');
    writeSeedCodeCache(path);

    const loaded = loadBundle(path);
    const answer = await (loaded.exports as { handler(event: unknown): Promise<unknown> }).handler({ n: 1 });
    loaded.saveCodeCache();
    const written = statSync(cacheFile('first-run', 'v8')).mtimeMs;
    loaded.saveCodeCache();

    expect(answer).toEqual({ echoed: 8 });
    expect(statSync(cacheFile('first-run', 'v8')).mtimeMs).toBe(written);
    expect(readFileSync(cacheFile('first-run', 'v8')).length).toBeGreaterThan(0);
  });

  it('does not rewrite a full cache a process found and V8 accepted', () => {
    const path = bundle('warm');
    const first = loadBundle(path);
    first.saveCodeCache();
    const full = readFileSync(cacheFile('warm', 'v8'));
    // Another process's view: the same bundle under a path this process has not loaded.
    const copy = bundle('warm-copy');
    mkdirSync(join(assembly, '.code-cache'), { recursive: true });
    writeFileSync(cacheFile('warm-copy', 'v8'), full);
    const before = statSync(cacheFile('warm-copy', 'v8')).mtimeMs;

    loadBundle(copy).saveCodeCache();

    expect(statSync(cacheFile('warm-copy', 'v8')).mtimeMs).toBe(before);
  });

  it('names the bundle\'s own path in its stack frames when the seed was written before the assembly was renamed into place', () => {
    // As synthesis does: the assembly is written in a scratch directory, seeded, then renamed.
    const scratch = `${assembly}-partial`;
    const written = bundle('renamed', scratch);
    const final = join(assembly, 'asset.renamed', 'index.js');
    writeSeedCodeCache(written, final);
    rmSync(assembly, { recursive: true, force: true });
    renameSync(scratch, assembly);

    const frame = frameOf(loadBundle(final));

    expect(frame).toContain(`${final}:generated:`);
    expect(frame).not.toContain(scratch);
  });

  it('keeps one cache per stack naming: a cache written under jest\'s naming never names the frames of a plain run', () => {
    const underJest = bundle('naming');
    const loaded = loadBundle(underJest);
    loaded.saveCodeCache();
    expect(existsSync(cacheFile('naming', 'v8'))).toBe(true);
    expect(existsSync(cacheFile('naming', 'v8', 'bundle'))).toBe(false);
    // The same bundle and its caches under another path, loaded as `certflow simulate` names frames.
    const plain = bundle('naming-plain');
    copyFileSync(cacheFile('naming', 'v8'), cacheFile('naming-plain', 'v8'));
    const naming = process.env.CERTFLOW_BUNDLE_STACKS;
    delete process.env.CERTFLOW_BUNDLE_STACKS;
    try {
      const frame = frameOf(loadBundle(plain));
      expect(frame).toContain(`${plain}:`);
      expect(frame).not.toContain(':generated');
    } finally {
      process.env.CERTFLOW_BUNDLE_STACKS = naming;
    }
  });
});

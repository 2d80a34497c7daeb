import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Module } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Script } from 'node:vm';
import { loadBundle, writeSeedCodeCache } from '../../sandbox/runner/bundle-loader';

/**
 * The bundles' V8 code caches (sandbox/runner/bundle-loader.ts): synthesis leaves a seed per
 * bundle, V8 accepts it for the source the loader compiles, and the first process to run a bundle
 * still writes the full cache, once. V8 is the judge of a cache, not the loader.
 */
describe('the code caches of the function bundles', () => {
  let assembly: string;
  beforeEach(() => {
    assembly = mkdtempSync(join(tmpdir(), 'certflow-code-cache-'));
  });
  afterEach(() => rmSync(assembly, { recursive: true, force: true }));

  function bundle(name: string): string {
    const dir = join(assembly, `asset.${name}`);
    mkdirSync(dir);
    const path = join(dir, 'index.js');
    // Large enough that V8 keeps a real cache for it.
    const padding = Array.from({ length: 200 }, (_, index) => `function helper${index}(x) { return x + ${index}; }`).join('\n');
    writeFileSync(path, `${padding}\nexports.handler = async (event) => ({ echoed: helper7(event.n) });\n`);
    return path;
  }
  const cacheFile = (name: string, kind: 'v8' | 'seed.v8') => join(assembly, '.code-cache', `asset.${name}-index.js.${kind}`);

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
});

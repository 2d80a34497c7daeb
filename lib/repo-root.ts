import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The checkout's root: the nearest directory above `from` whose package.json is certflow's. Code
 * runs both from source (lib/, sandbox/) and from the compiled CLI (dist/), so a fixed number of
 * `..` from __dirname would be right in one and wrong in the other.
 */
export function repoRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'certflow') return dir;
    if (dirname(dir) === dir) throw new Error(`no certflow package.json above ${from}`);
  }
}

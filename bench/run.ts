import { execFileSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

/** `npm run bench`: every bench/*.bench.ts in turn, each in its own process. */
const only = process.argv[2];
for (const file of readdirSync(__dirname).filter((name) => name.endsWith('.bench.ts')).sort()) {
  if (only && !file.includes(only)) continue;
  console.log(`\n== ${file}`);
  execFileSync(process.execPath, ['--import', 'tsx', join(__dirname, file)], { stdio: 'inherit' });
}

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp, DEFAULT_CONFIG_PATH } from '../../bin/app';
import { ConfigError } from '../../functions/contracts/errors';
import { loadTemplate } from '../support/template';

const scratch = mkdtempSync(join(tmpdir(), 'certflow-config-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

let configs = 0;
function configWith(mutate: (config: Record<string, any>) => void): string {
  const config = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, 'utf8')) as Record<string, any>;
  mutate(config);
  const path = join(scratch, `config-${++configs}.json`);
  writeFileSync(path, JSON.stringify(config));
  return path;
}

describe('buildApp', () => {
  it('throws a ConfigError naming the bad field and synthesizes nothing', () => {
    const configPath = configWith((config) => {
      config['vault']['threshold'] = 9; // more than the 5 shares
    });
    const outdir = join(scratch, 'cdk.out');
    let thrown: unknown;
    try {
      buildApp({ configPath, outdir });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toContain('vault.threshold');
    expect(existsSync(outdir) ? readdirSync(outdir) : []).toEqual([]);
  });

  it('names a mistyped nested field the same way', () => {
    const configPath = configWith((config) => {
      config['kms']['unsealKeyAlias'] = 'certflow-unseal'; // no alias/ prefix
    });
    expect(() => buildApp({ configPath })).toThrow(/kms\.unsealKeyAlias/);
  });

  it('builds an environment-agnostic stack named after the deployment', () => {
    // The template global-setup synthesized carries no account or region of its own.
    const text = JSON.stringify(loadTemplate());
    expect(text).not.toMatch(/\b\d{12}\b/);
    expect(text).toContain('AWS::AccountId');
  });
});

import { capabilitiesOf, parseAclPolicy, tokenCapabilities, type AclPolicyDocument } from '../../sandbox/vault/acl-policies';

/** The Vault emulator's ACL evaluation, as Vault's policy documentation states its rules. */
const policy = (paths: Record<string, string[]>): AclPolicyDocument => parseAclPolicy(JSON.stringify({ path: Object.fromEntries(Object.entries(paths).map(([path, capabilities]) => [path, { capabilities }])) }));
const caps = (document: AclPolicyDocument, path: string) => [...capabilitiesOf(document, path)].sort();

describe('Vault ACL policies in the emulator', () => {
  it('matches exact paths, a trailing * as a prefix glob, and + as exactly one segment', () => {
    const document = policy({ 'pki_int/issue/web': ['update'], 'pki_int/cert*': ['read'], 'pki_int/issuer/+/revoke': ['update'] });

    expect(caps(document, 'pki_int/issue/web')).toEqual(['update']);
    expect(caps(document, 'pki_int/issue/webx')).toEqual([]);
    expect(caps(document, 'pki_int/certs/ab')).toEqual(['read']);
    expect(caps(document, 'pki_int/issuer/1234/revoke')).toEqual(['update']);
    expect(caps(document, 'pki_int/issuer/1234/extra/revoke')).toEqual([]);
    expect(caps(document, 'pki_int/issuer/revoke')).toEqual([]);
  });

  it('applies only the most specific matching path of one policy (no union inside a policy)', () => {
    const document = policy({ 'pki_int/*': ['read', 'list'], 'pki_int/issuer/+': ['patch'], 'pki_int/issuer/default': ['read'] });

    expect(caps(document, 'pki_int/issuer/default')).toEqual(['read']);
    expect(caps(document, 'pki_int/issuer/abc')).toEqual(['patch']);
    expect(caps(document, 'pki_int/roles/web')).toEqual(['list', 'read']);
  });

  it('unions the token’s policies, and deny in any of them takes everything away', () => {
    const policies = new Map([
      ['a', policy({ 'pki_int/issue/web': ['update'] })],
      ['b', policy({ 'pki_int/issue/*': ['create'] })],
      ['no', policy({ 'pki_int/issue/web': ['deny'] })],
    ]);

    expect([...tokenCapabilities(policies, ['a', 'b'], 'pki_int/issue/web')].sort()).toEqual(['create', 'update']);
    expect([...tokenCapabilities(policies, ['a', 'b', 'no'], 'pki_int/issue/web')]).toEqual([]);
    expect([...tokenCapabilities(policies, ['missing'], 'pki_int/issue/web')]).toEqual([]);
  });

  it('refuses a policy with an unknown capability or field, naming it', () => {
    expect(() => parseAclPolicy('{"path":{"x":{"capabilities":["write"]}}}')).toThrow(/capabilities/);
    expect(() => parseAclPolicy('{"path":{"x":{"capabilities":["read"],"allowed_parameters":{}}}}')).toThrow(/allowed_parameters/);
    expect(() => parseAclPolicy('path "x" { capabilities = ["read"] }')).toThrow(/JSON form/);
  });
});

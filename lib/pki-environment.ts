import { EnvNames, PkiEnvNames, type VaultAuth } from '../functions/contracts/env';
import type { VaultIdentityGroup } from '../functions/contracts/functions';
import { parseDuration, type CertflowConfig } from './config';

/**
 * How a function of `group` logs in to Vault (undefined: it has no Vault identity). AWS IAM gives
 * each group its own Vault auth role; AppRole and a stored token are one credential, shared by
 * the groups that log in (only AWS IAM can tell the functions apart).
 */
export function vaultAuthOf(config: CertflowConfig, group: VaultIdentityGroup | undefined): VaultAuth {
  const auth = config.vault.auth;
  if (group === undefined) return { method: 'none' };
  switch (auth.method) {
    case 'aws-iam':
      return { method: 'aws-iam', role: auth.roles[group], mount: auth.mount, stsRegion: 'us-east-1', ...(auth.iamServerIdHeader ? { serverIdHeader: auth.iamServerIdHeader } : {}) };
    case 'approle':
      return { method: 'approle', secretArn: auth.secretArn, mount: auth.mount };
    case 'token':
      return { method: 'token', secretArn: auth.secretArn };
  }
}

/**
 * The environment of every function that talks to Vault's PKI, from the deployment config: set
 * on the Lambdas by the stack (each with its group's Vault identity), and built the same way by
 * the CLI for `certflow plan` against AWS (the rotation group's, which reads issuers).
 */
export function pkiEnvironment(config: CertflowConfig, group: VaultIdentityGroup | undefined = 'rotation'): Record<string, string> {
  return {
    [PkiEnvNames.VaultAddress]: config.vault.address,
    [EnvNames.VaultCaPem]: config.vault.caCertificate,
    [PkiEnvNames.VaultAuth]: JSON.stringify(vaultAuthOf(config, group)),
    [PkiEnvNames.RootMount]: config.vault.rootMount,
    [PkiEnvNames.IntermediateMount]: config.vault.intermediateMount,
    [PkiEnvNames.Role]: config.vault.role,
    [PkiEnvNames.KeyAlgorithm]: config.pki.keyAlgorithm,
    [PkiEnvNames.Organization]: config.pki.organization,
    [PkiEnvNames.IntermediateTtlSeconds]: String(parseDuration(config.pki.intermediateTtl)),
    [PkiEnvNames.RotationPeriodSeconds]: String(parseDuration(config.pki.intermediateRotationPeriod)),
    [PkiEnvNames.LeafTtlSeconds]: String(parseDuration(config.pki.leafTtl)),
    [PkiEnvNames.RenewBeforeSeconds]: String(parseDuration(config.pki.renewBefore)),
    [PkiEnvNames.MaxIssuersPerMount]: String(config.pki.maxIssuersPerMount),
    [PkiEnvNames.RetiredIssuerGraceSeconds]: String(parseDuration(config.pki.retiredIssuerGrace)),
    ...(config.pki.autoTidy
      ? {
          [PkiEnvNames.AutoTidy]: JSON.stringify({
            intervalSeconds: parseDuration(config.pki.autoTidy.interval),
            safetyBufferSeconds: parseDuration(config.pki.autoTidy.safetyBuffer),
            issuerSafetyBufferSeconds: parseDuration(config.pki.autoTidy.issuerSafetyBuffer),
          }),
        }
      : {}),
  };
}

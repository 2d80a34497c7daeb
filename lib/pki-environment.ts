import { EnvNames, PkiEnvNames } from '../functions/contracts/env';
import { parseDuration, type CertflowConfig } from './config';

/**
 * The environment of every function that talks to Vault's PKI, from the deployment config: set
 * on the Lambdas by the stack, and built the same way by the CLI for `certflow plan` against AWS.
 */
export function pkiEnvironment(config: CertflowConfig): Record<string, string> {
  return {
    [PkiEnvNames.VaultAddress]: config.vault.address,
    ...(config.vault.caCertificate ? { [EnvNames.VaultCaPem]: config.vault.caCertificate } : {}),
    [PkiEnvNames.VaultAuth]: JSON.stringify(config.vault.auth),
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

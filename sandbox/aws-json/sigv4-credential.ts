/**
 * The access key id of a SigV4-signed request, from
 * `Authorization: AWS4-HMAC-SHA256 Credential=AKID/20240101/us-east-1/kms/aws4_request, ...`.
 * The emulators do not verify signatures (there is no secret to check against); the key id is
 * enough for the sandbox's key policies and for tests asserting who called.
 */
export function accessKeyIdFromAuthorization(header: string | undefined): string | undefined {
  const match = header?.match(/Credential=([^/,\s]+)\//);
  return match?.[1];
}

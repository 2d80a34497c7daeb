import { noContent, VaultApiError } from '../envelope';
import type { RouteDefinition, VaultRequest } from '../router';
import { pkiEnvelope } from './pki-responses';
import { forPkiMounts, mountOf, type PkiRouteEnv } from './pki-route-kit';
import { has, str } from './pki-values';
import { colonSerial, x509 } from './x509-engine';

/**
 * Keys of a mount (VAULT_API.md 4.16, 4.9): LIST keys, read, rename, delete. A key used by an
 * issuer cannot be deleted (400 `Failed to Delete Key.  Key in Use by Issuer: <id>`).
 */

function listKeys(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  const ids = [...mount.keys.keys()].sort();
  if (ids.length === 0) throw new VaultApiError(404);
  const keyInfo: Record<string, unknown> = {};
  for (const id of ids) keyInfo[id] = { key_name: mount.keys.get(id)?.name ?? '', is_default: id === mount.defaultKeyId };
  return pkiEnvelope({ keys: ids, key_info: keyInfo });
}

async function readKey(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  const key = mount.resolveKey(request.params.ref ?? '');
  const skid = await x509.SubjectKeyIdentifierExtension.create(key.material.publicKey);
  return pkiEnvelope({ key_id: key.id, key_name: key.name, key_type: key.material.type, subject_key_id: colonSerial(skid.keyId) });
}

async function renameKey(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  return mount.exclusive(async () => {
    const key = mount.resolveKey(request.params.ref ?? '');
    const name = has(request.body, 'key_name') ? str(request.body, 'key_name') : '';
    mount.assertKeyNameFree(name, key.id);
    const warnings = name === '' && key.name !== '' ? [`Name successfully deleted, you will now need to reference this key by it's Id: ${key.id}`] : [];
    key.name = name;
    return pkiEnvelope({ key_id: key.id, key_name: key.name, key_type: key.material.type }, { warnings });
  });
}

async function deleteKey(env: PkiRouteEnv, request: VaultRequest) {
  const mount = mountOf(env, request);
  return mount.exclusive(async () => {
    const reference = request.params.ref ?? '';
    if (reference === '') throw new VaultApiError(400, 'missing key reference');
    const key = mount.findKey(reference);
    if (!key) return noContent();
    const user = [...mount.issuers.values()].find((issuer) => issuer.keyId === key.id);
    if (user) throw new VaultApiError(400, `Failed to Delete Key.  Key in Use by Issuer: ${user.id}`);
    mount.keys.delete(key.id);
    if (mount.defaultKeyId === key.id) {
      mount.defaultKeyId = '';
      return pkiEnvelope(null, {
        warnings: [
          `Deleted key ${key.id} (via key_ref ${reference}); this was configured as the default key. Operations without an explicit key will not work until a new default is configured.`,
        ],
      });
    }
    return noContent();
  });
}

export function keyRoutes(env: PkiRouteEnv): RouteDefinition[] {
  return forPkiMounts(env, [
    { pattern: ':mount/keys', operations: { list: (_, request) => listKeys(env, request) } },
    {
      pattern: ':mount/key/:ref',
      operations: {
        read: (_, request) => readKey(env, request),
        update: (_, request) => renameKey(env, request),
        delete: (_, request) => deleteKey(env, request),
      },
    },
  ]);
}

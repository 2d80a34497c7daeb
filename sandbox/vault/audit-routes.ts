import { envelope, noContent, VaultApiError } from './envelope';
import type { JsonObject } from './envelope';
import type { RouteDefinition, RouteModule, VaultRequest } from './router';

/**
 * Vault's audit devices, `sys/audit` (list) and `sys/audit/:path` (enable, disable): what a
 * Preflight reads to refuse a Vault that records nothing. Vault marks both paths `sudo`: a non-root
 * token needs `sudo` besides the path's own capability. The list answers the devices in `data`,
 * keyed by path with its trailing slash, and (as Vault still does for older clients) the same keys
 * at the top level; no device is an empty map, not a 404. The emulator keeps no log: a device is
 * its configuration only (types `file`, `syslog`, `socket`; a `file` device needs `file_path`).
 */
interface AuditDevice {
  readonly type: string;
  readonly description: string;
  readonly options: Readonly<Record<string, string>>;
  readonly local: boolean;
  readonly path: string;
}

const DEVICE_TYPES = new Set(['file', 'syslog', 'socket']);

function pathOf(request: VaultRequest): string {
  const raw = (request.params.path ?? '').replace(/^\/+/, '');
  if (raw === '') throw new VaultApiError(400, 'missing path');
  return raw.endsWith('/') ? raw : `${raw}/`;
}

function optionsOf(body: JsonObject): Record<string, string> {
  const raw = body.options;
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new VaultApiError(400, "error converting input for field \"options\": expected a map");
  return Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, String(value)]));
}

export const createAuditRoutes: RouteModule = (): readonly RouteDefinition[] => {
  const devices = new Map<string, AuditDevice>();
  const listing = () => Object.fromEntries([...devices].map(([path, device]) => [path, { ...device }]));
  return [
    {
      pattern: 'sys/audit',
      sudo: true,
      operations: {
        read: () => {
          const response = envelope(listing());
          return { ...response, json: { ...listing(), ...(response.json as JsonObject) } };
        },
      },
    },
    {
      pattern: 'sys/audit/*path',
      sudo: true,
      operations: {
        update: (_, request) => {
          const path = pathOf(request);
          const type = typeof request.body.type === 'string' ? request.body.type : '';
          if (type === '') throw new VaultApiError(400, 'audit type must be specified');
          if (!DEVICE_TYPES.has(type)) throw new VaultApiError(400, `unknown backend type: "${type}"`);
          const options = optionsOf(request.body);
          if (type === 'file' && !options.file_path) throw new VaultApiError(400, 'file_path is required');
          if (devices.has(path)) throw new VaultApiError(400, 'path already in use');
          const description = typeof request.body.description === 'string' ? request.body.description : '';
          devices.set(path, { type, description, options, local: request.body.local === true, path });
          return noContent();
        },
        delete: (_, request) => {
          // Disabling a path with no device is not an error in Vault.
          devices.delete(pathOf(request));
          return noContent();
        },
      },
    },
  ];
};

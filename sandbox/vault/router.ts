import type { IncomingHttpHeaders } from 'node:http';
import type { ClusterStorage } from './cluster-storage';
import type { JsonObject, VaultResponse } from './envelope';
import type { TokenEntry } from './token-store';
import type { VaultNode } from './vault-node';

/**
 * The route table every node dispatches through. The sys part registers one module; the PKI and
 * auth parts (issue 3) register theirs the same way, in their own files:
 *
 *   handle.registerRoutes((cluster) => [
 *     { pattern: ':mount/issuers', auth: 'none', operations: { list: (ctx, req) => ... } },
 *   ]);
 *
 * Operations follow Vault's logical operations: GET is `read`, PUT and POST are `update`,
 * LIST (or GET with `?list=true`) is `list`, DELETE is `delete`, PATCH is `patch` (VAULT_API.md 0).
 * When several patterns match a path, the one with the most literal segments wins, then the
 * first registered; a route's `when` can refuse a match (e.g. `:mount` that is not a PKI mount).
 */

export type Operation = 'read' | 'update' | 'delete' | 'list' | 'patch' | 'head';

export interface VaultRequest {
  readonly method: string;
  readonly operation: Operation;
  /** Logical path without `/v1/` and without a trailing slash, e.g. `pki_int/issuer/default`. */
  readonly path: string;
  /** Values of the pattern's `:name` and `*name` segments. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** The parsed JSON body; `{}` when there was none. */
  readonly body: JsonObject;
  readonly rawBody: Buffer;
  /** From `X-Vault-Token` or `Authorization: Bearer` (VAULT_API.md 0). */
  readonly clientToken: string | undefined;
  /** The caller's token entry once the route's `auth` check passed. */
  readonly token: TokenEntry | undefined;
}

/** What every node of a cluster shares, handed to route modules and handlers. */
export interface ClusterContext {
  readonly storage: ClusterStorage;
  readonly nodes: readonly VaultNode[];
  node(id: string): VaultNode;
}

export interface RouteContext {
  /** The node that received the request (standbys answer for the active node: storage is shared). */
  readonly node: VaultNode;
  readonly cluster: ClusterContext;
}

export type RouteHandler = (ctx: RouteContext, request: VaultRequest) => VaultResponse | Promise<VaultResponse>;

export interface RouteDefinition {
  /**
   * Segments separated by `/`: literals, `:name` (one segment) and a final `*name` (the rest, at
   * least one segment). Example: `:mount/issuer/:ref`, `sys/mounts/*path`.
   */
  readonly pattern: string;
  readonly operations: Partial<Record<Operation, RouteHandler>>;
  /**
   * True only for the raw sys handlers that a sealed node still answers (`sys/init`,
   * `sys/seal-status`, `sys/unseal`, `sys/health`, `sys/leader`, `sys/seal`, `sys/step-down`).
   * Every other path gets 503 `Vault is sealed` on a sealed node (VAULT_API.md 1.2, 1.3).
   * @default false
   */
  readonly availableWhenSealed?: boolean;
  /**
   * `none`: no token needed. `token`: any live token. `root`: a token with the root policy.
   * A failed check is 403 `permission denied`.
   * @default 'token'
   */
  readonly auth?: 'none' | 'token' | 'root';
  /**
   * A root-protected path (Vault's `sudo` paths, such as `sys/audit`): a non-root token needs the
   * `sudo` capability on it besides the operation's own. @default false
   */
  readonly sudo?: boolean;
  /**
   * Extra condition on the matched params, e.g. "`:mount` is a PKI mount", so a module can claim
   * dynamic paths without shadowing others.
   */
  readonly when?: (params: Readonly<Record<string, string>>) => boolean;
}

/** A module of routes, built once per cluster so it can keep its own state in a closure. */
export type RouteModule = (cluster: ClusterContext) => readonly RouteDefinition[];

interface CompiledRoute {
  readonly definition: RouteDefinition;
  readonly segments: readonly string[];
  /** Literal segments: the most specific matching pattern wins, then the first registered. */
  readonly literals: number;
}

export interface RouteMatch {
  readonly route: RouteDefinition;
  readonly params: Readonly<Record<string, string>>;
}

function matchSegments(patternSegments: readonly string[], pathSegments: readonly string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < patternSegments.length; i += 1) {
    const pattern = patternSegments[i] ?? '';
    if (pattern.startsWith('*')) {
      const rest = pathSegments.slice(i);
      if (rest.length === 0) return undefined;
      params[pattern.slice(1)] = rest.join('/');
      return params;
    }
    const segment = pathSegments[i];
    if (segment === undefined || segment === '') return undefined;
    if (pattern.startsWith(':')) params[pattern.slice(1)] = segment;
    else if (pattern !== segment) return undefined;
  }
  return patternSegments.length === pathSegments.length ? params : undefined;
}

export class RouteTable {
  private readonly routes: CompiledRoute[] = [];

  register(definitions: readonly RouteDefinition[]): void {
    for (const definition of definitions) {
      const segments = definition.pattern.split('/');
      const wildcard = segments.findIndex((s) => s.startsWith('*'));
      if (wildcard !== -1 && wildcard !== segments.length - 1) {
        throw new Error(`route pattern ${definition.pattern}: a *rest segment must be the last one`);
      }
      const literals = segments.filter((s) => !s.startsWith(':') && !s.startsWith('*')).length;
      this.routes.push({ definition, segments, literals });
    }
  }

  /** The most specific route matching the path (most literal segments; ties: first registered). */
  match(path: string): RouteMatch | undefined {
    const pathSegments = path.split('/');
    let best: (RouteMatch & { literals: number }) | undefined;
    for (const compiled of this.routes) {
      const params = matchSegments(compiled.segments, pathSegments);
      if (!params || compiled.definition.when?.(params) === false) continue;
      if (!best || compiled.literals > best.literals) best = { route: compiled.definition, params, literals: compiled.literals };
    }
    return best && { route: best.route, params: best.params };
  }
}

import type { RouteModule } from '../router';
import { AuthTokens } from './auth-tokens';
import { type AwsPrincipalOptions, AwsPrincipalTable } from './aws-principals';
import { approleRoutes } from './routes-approle';
import { awsRoutes } from './routes-aws';
import { tokenRoutes } from './routes-token';

/**
 * The auth methods of the Vault emulator (VAULT_API.md 6): token, AppRole and AWS IAM, as one
 * route module. Enable them with `startVaultCluster({ routes: [auth.routes] })` or
 * `handle.registerRoutes(auth.routes)`; tell the AWS method who an access key belongs to with
 * `auth.registerAwsPrincipal(accessKeyId, arn)` (the emulator cannot ask STS).
 */

export interface AuthRoutesOptions {
  /** @default 'approle' */
  readonly approleMount?: string;
  /** @default 'aws' */
  readonly awsMount?: string;
}

export interface AuthRoutes {
  /** Register on a cluster; tokens live in that cluster's token store, roles per cluster. */
  readonly routes: RouteModule;
  /**
   * The principal STS would report for an access key id. Give `secretAccessKey` to have the
   * signature verified too, and `sessionToken` to require it as a signed X-Amz-Security-Token.
   */
  registerAwsPrincipal(accessKeyId: string, arn: string, options?: AwsPrincipalOptions): void;
  readonly principals: AwsPrincipalTable;
  /** Tokens issued by a login (`auth/<mount>/login`, any method) so far: what a test counts to prove a client logs in once. */
  logins(): number;
}

export function createAuthRoutes(options: AuthRoutesOptions = {}): AuthRoutes {
  const principals = new AwsPrincipalTable();
  let logins = 0;
  return {
    principals,
    logins: () => logins,
    registerAwsPrincipal: (accessKeyId, arn, principalOptions) => principals.register(accessKeyId, arn, principalOptions),
    routes: (cluster) => {
      const tokens = new AuthTokens(cluster.storage.tokens, cluster.storage.now);
      const issue = tokens.issue.bind(tokens);
      tokens.issue = (request) => {
        if (request.path?.endsWith('/login')) logins += 1;
        return issue(request);
      };
      return [
        ...tokenRoutes(cluster, tokens),
        ...approleRoutes(cluster, tokens, options.approleMount ?? 'approle'),
        ...awsRoutes(cluster, tokens, principals, options.awsMount ?? 'aws'),
      ];
    },
  };
}

import * as z from 'zod';

/**
 * How certflow reaches one Kubernetes cluster (DESIGN.md Config: "clusters (EKS name or
 * kubeconfig secret)"). Shared by lib/ (which grants the IAM permissions each form needs) and the
 * handlers (which build a Cluster adapter from it). Only names and addresses travel here: a token
 * given inline is for the sandbox, where there is nothing to protect.
 */

/** EKS's own rule for cluster names; certflow uses the same name for every form. */
export const ClusterNameSchema = z
  .string()
  .regex(/^[0-9A-Za-z][0-9A-Za-z_-]{0,99}$/, 'cluster name: letters, digits, "-" and "_", at most 100, starting with a letter or digit');

const base64 = z.string().regex(/^[A-Za-z0-9+/]+={0,2}$/, 'must be base64 (as in certificate-authority-data)');

/**
 * An EKS cluster reached with the function's own IAM role: a bearer token made from a presigned
 * sts:GetCallerIdentity (what `aws eks get-token` makes). Endpoint and CA are the cluster's
 * `endpoint` and `certificateAuthority.data` from DescribeCluster, so no EKS call is needed at run time.
 */
export const EksClusterSpecSchema = z.object({
  auth: z.literal('eks'),
  name: ClusterNameSchema,
  endpoint: z.url({ protocol: /^https$/ }),
  /** Base64 PEM, exactly as DescribeCluster returns `certificateAuthority.data`. */
  caData: base64,
  /** The cluster's region: STS is called (and the token signed) in it. */
  region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d+$/, 'an AWS region such as eu-west-1'),
});

/** Any cluster, through a kubeconfig YAML stored as a Secrets Manager secret string. */
export const KubeconfigSecretClusterSpecSchema = z.object({
  auth: z.literal('kubeconfig-secret'),
  name: ClusterNameSchema,
  secretArn: z.string().min(1),
});

/**
 * A server URL and a bearer token: the sandbox (token inline, plain HTTP) or a cluster reached
 * with a service-account token kept in Secrets Manager (`tokenSecretArn`). Exactly one of the two.
 */
export const TokenClusterSpecSchema = z
  .object({
    auth: z.literal('token'),
    name: ClusterNameSchema,
    server: z.url({ protocol: /^https?$/ }),
    token: z.string().min(1).optional(),
    tokenSecretArn: z.string().min(1).optional(),
    /** Base64 PEM of the CA that signs the API server's certificate; system roots when absent. */
    caData: base64.optional(),
    /** Skip verification of the server certificate (sandbox only). Implied for `http://` servers. */
    skipTlsVerify: z.boolean().default(false),
  })
  .refine((spec) => (spec.token === undefined) !== (spec.tokenSecretArn === undefined), {
    message: 'give exactly one of token and tokenSecretArn',
    path: ['token'],
  });

export const ClusterSpecSchema = z.discriminatedUnion('auth', [EksClusterSpecSchema, KubeconfigSecretClusterSpecSchema, TokenClusterSpecSchema]);
export type ClusterSpec = z.infer<typeof ClusterSpecSchema>;
export type EksClusterSpec = z.infer<typeof EksClusterSpecSchema>;
export type KubeconfigSecretClusterSpec = z.infer<typeof KubeconfigSecretClusterSpecSchema>;
export type TokenClusterSpec = z.infer<typeof TokenClusterSpecSchema>;

/** Every cluster of a deployment; names are unique because targets refer to clusters by name. */
export const ClusterSpecListSchema = z.array(ClusterSpecSchema).superRefine((specs, ctx) => {
  const seen = new Set<string>();
  specs.forEach((spec, index) => {
    if (seen.has(spec.name)) ctx.addIssue({ code: 'custom', message: `duplicate cluster name ${spec.name}`, path: [index, 'name'] });
    seen.add(spec.name);
  });
});

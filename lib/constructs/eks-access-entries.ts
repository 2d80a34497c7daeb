import * as eks from 'aws-cdk-lib/aws-eks';
import type * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface EksAccessEntriesProps {
  /** The EKS clusters of the config that ask for access entries (`accessEntries` on an eks cluster). */
  readonly clusters: ReadonlyArray<{ name: string; accessEntries: { clusterName: string; username: string } }>;
  /** The roles of the functions that talk to Kubernetes, by function id (stable logical ids). */
  readonly roles: Readonly<Record<string, iam.IRole>>;
}

/**
 * One EKS access entry per Kubernetes-facing function role and declared EKS cluster: the role
 * signs in as the Kubernetes user that deploy/kubernetes/rbac.yaml binds (`certflow` by default),
 * with no access policy, so RBAC alone decides what it may do (no cluster-wide
 * AmazonEKS*Policy). The cluster must be in the stack's account and region.
 */
export class EksAccessEntries extends Construct {
  readonly entries: eks.CfnAccessEntry[] = [];

  constructor(scope: Construct, id: string, props: EksAccessEntriesProps) {
    super(scope, id);
    for (const cluster of props.clusters) {
      for (const [functionId, role] of Object.entries(props.roles)) {
        this.entries.push(
          new eks.CfnAccessEntry(this, `${cluster.name}-${functionId}`, {
            clusterName: cluster.accessEntries.clusterName,
            principalArn: role.roleArn,
            type: 'STANDARD',
            username: cluster.accessEntries.username,
          }),
        );
      }
    }
  }
}

import { Aws, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import type { CertflowConfig } from '../config';

type VpcConfig = Exclude<CertflowConfig['network']['vpc'], 'none'>;

/**
 * The AWS APIs the functions call (their @aws-sdk clients), each an interface endpoint with
 * private DNS, so a function in a subnet without a NAT route still reaches them. CloudWatch Logs
 * and X-Ray need none: Lambda ships a function's logs and traces from outside its VPC.
 */
export const ENDPOINT_SERVICES = {
  Kms: ec2.InterfaceVpcEndpointAwsService.KMS,
  DynamoDb: ec2.InterfaceVpcEndpointAwsService.DYNAMODB,
  EventBridge: ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE,
  SecretsManager: ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
  Ssm: ec2.InterfaceVpcEndpointAwsService.SSM,
  StepFunctions: ec2.InterfaceVpcEndpointAwsService.STEP_FUNCTIONS,
} as const;

export interface NetworkPlacementProps {
  readonly vpc: VpcConfig;
}

/**
 * The functions' network from config `network.vpc`: the operator's VPC, private subnets and
 * security groups (imported, never created: the routes to each Vault node and cluster endpoint
 * are the operator's), the interface endpoints of ENDPOINT_SERVICES (unless the VPC has them),
 * and the ENI permissions Lambda needs from each function's role to place it there.
 */
export class NetworkPlacement extends Construct {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.ISubnet[];
  readonly securityGroups: ec2.ISecurityGroup[];

  constructor(scope: Construct, id: string, props: NetworkPlacementProps) {
    super(scope, id);
    const { vpc } = props;
    const zones = [...new Set(vpc.subnets.map((subnet) => subnet.availabilityZone))];
    this.vpc = ec2.Vpc.fromVpcAttributes(this, 'Vpc', { vpcId: vpc.vpcId, availabilityZones: zones });
    this.subnets = vpc.subnets.map((subnet) => ec2.Subnet.fromSubnetAttributes(this, subnet.id, { subnetId: subnet.id, availabilityZone: subnet.availabilityZone }));
    this.securityGroups = vpc.securityGroupIds.map((groupId) => ec2.SecurityGroup.fromSecurityGroupId(this, groupId, groupId, { mutable: false }));
    if (vpc.endpoints === 'create') this.createEndpoints();
  }

  /** Where a function goes: the config's subnets and security groups. */
  get functionPlacement(): Pick<lambda.FunctionProps, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
    return { vpc: this.vpc, vpcSubnets: { subnets: this.subnets }, securityGroups: this.securityGroups };
  }

  /**
   * Lambda creates, describes and deletes the function's network interfaces with the function's
   * own role (a role given to the function gets no AWSLambdaVPCAccessExecutionRole, and certflow
   * attaches no managed policy). One policy for every function role: Create is bounded to the
   * configured subnets and security groups, the rest to network interfaces of this account;
   * Describe* supports no resource-level permission.
   */
  allowNetworkInterfaces(roles: readonly iam.IRole[]): void {
    const ec2Arn = (resource: string) => `arn:${Aws.PARTITION}:ec2:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const interfaces = ec2Arn('network-interface/*');
    const policy = new iam.Policy(this, 'FunctionNetworkInterfaces', {
      roles: [...roles],
      statements: [
        new iam.PolicyStatement({
          sid: 'CreateInTheConfiguredSubnetsAndGroups',
          actions: ['ec2:CreateNetworkInterface'],
          resources: [interfaces, ...this.subnets.map((subnet) => ec2Arn(`subnet/${subnet.subnetId}`)), ...this.securityGroups.map((group) => ec2Arn(`security-group/${group.securityGroupId}`))],
        }),
        new iam.PolicyStatement({
          sid: 'ManageTheFunctionsInterfaces',
          actions: ['ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
          resources: [interfaces],
        }),
        new iam.PolicyStatement({ sid: 'DescribeHasNoResourceLevelPermission', actions: ['ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups'], resources: ['*'] }),
      ],
    });
    Validations.of(policy).acknowledge(
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'ec2:DescribeNetworkInterfaces, DescribeSubnets and DescribeSecurityGroups support no resource-level permission; Lambda calls them with the function role to place it in the VPC.',
      },
      {
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*]`,
        reason: 'The network interfaces Lambda creates for the functions exist only at run time; the wildcard is network interfaces of this account and region, and creating one is also bounded to the configured subnets and security groups.',
      },
    );
  }

  private createEndpoints(): void {
    // The endpoints accept HTTPS from the functions' security groups only.
    const endpointGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'certflow: the interface endpoints, reachable on 443 from the functions only',
      allowAllOutbound: false,
    });
    for (const group of this.securityGroups) endpointGroup.addIngressRule(ec2.Peer.securityGroupId(group.securityGroupId), ec2.Port.tcp(443), 'certflow functions');
    for (const [name, service] of Object.entries(ENDPOINT_SERVICES)) {
      new ec2.InterfaceVpcEndpoint(this, `${name}Endpoint`, {
        vpc: this.vpc,
        service,
        subnets: { subnets: this.subnets },
        securityGroups: [endpointGroup],
        privateDnsEnabled: true,
        open: false,
      });
    }
  }
}

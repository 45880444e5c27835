/**
 * Helpers for acknowledging cdk-nag (v3) findings precisely: one finding id per wildcard
 * resource, in the form cdk-nag prints (`Resource::<LogicalId.Arn>/prefix/*`).
 */
import { type CfnElement, Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** The CloudFormation logical id of a construct's default resource. */
export function logicalIdOf(construct: IConstruct): string {
  const resource = construct.node.defaultChild;
  if (!resource) throw new Error(`${construct.node.path} has no default resource`);
  return Stack.of(construct).getLogicalId(resource as CfnElement);
}

/** Acknowledge AwsSolutions-IAM5 for `<bucket>.Arn/<prefix>*` on a role's default policy. */
export function acknowledgeBucketPrefixes(role: IConstruct, bucket: IConstruct, prefixes: readonly string[], why: string): void {
  const policy = defaultPolicyOf(role);
  for (const prefix of prefixes) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(bucket)}.Arn>/${prefix}*]`,
      reason: `Objects under ${prefix} are keyed by job id; ${why}`,
    });
  }
}

export function defaultPolicyOf(role: IConstruct): IConstruct {
  const policy = role.node.tryFindChild('DefaultPolicy');
  if (!policy) throw new Error(`${role.node.path} has no default policy`);
  return policy;
}

"""The controls every S3 bucket of this project gets (task logs, Pulumi state)."""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws


def tls_only_policy(bucket_arn: str) -> str:
    """A bucket policy refusing plain-HTTP requests."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Sid": "DenyInsecureTransport",
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": [bucket_arn, f"{bucket_arn}/*"],
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            ],
        }
    )


def lock_down_bucket(name: str, bucket: aws.s3.Bucket, opts: pulumi.ResourceOptions) -> None:
    """Public access blocked, ACLs off, SSE-S3 at rest, plain HTTP refused; resources named `<name>-...`."""
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-public-access-block",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=opts,
    )
    # ACLs off: the bucket owner owns every object, access is IAM only.
    aws.s3.BucketOwnershipControls(
        f"{name}-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=opts,
    )
    # SSE-S3: encryption at rest with no per-key access control to grant, and
    # no KMS request charge per object.
    aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                    sse_algorithm="AES256"
                )
            )
        ],
        opts=opts,
    )
    # After the public access block: S3 rejects concurrent policy and access-block writes on one bucket.
    aws.s3.BucketPolicy(
        f"{name}-tls-only",
        bucket=bucket.id,
        policy=bucket.arn.apply(tls_only_policy),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[public_access_block])),
    )

"""AWS platform: EKS, RDS, S3 logs, EFS storage."""

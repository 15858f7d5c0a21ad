"""The VPC: public and private subnets per AZ, internet gateway, NAT gateways, routes."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

WORLD = "0.0.0.0/0"


@dataclass(frozen=True)
class NetworkArgs:
    cluster_name: str
    vpc_cidr: str
    availability_zones: tuple[str, ...]
    public_subnet_cidrs: tuple[str, ...]
    private_subnet_cidrs: tuple[str, ...]
    # One NAT gateway per AZ (an AZ outage leaves the others' egress intact)
    # or a single one in the first AZ (~$36/month per gateway saved).
    nat_gateway_per_az: bool
    # The S3 gateway endpoint's service name is per region.
    region: str


class Network(pulumi.ComponentResource):
    """Nodes, pods, the database and EFS live in the private subnets; the public
    subnets hold only the NAT gateways and internet-facing load balancers."""

    vpc: aws.ec2.Vpc
    public_subnets: list[aws.ec2.Subnet]
    private_subnets: list[aws.ec2.Subnet]
    nat_gateways: list[aws.ec2.NatGateway]
    s3_endpoint: aws.ec2.VpcEndpoint

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:aws:Network", name, None, opts)
        local = pulumi.ResourceOptions(parent=self)
        # `shared`: the cluster uses these subnets but does not own them; the
        # load balancer controllers only pick subnets carrying the cluster tag.
        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            # EKS, EFS mount targets and RDS endpoints resolve through VPC DNS.
            enable_dns_support=True,
            enable_dns_hostnames=True,
            tags={"Name": f"{args.cluster_name}-vpc"},
            opts=local,
        )
        internet_gateway = aws.ec2.InternetGateway(
            f"{name}-igw", vpc_id=self.vpc.id, tags={"Name": f"{args.cluster_name}-igw"}, opts=local
        )

        public_routes = aws.ec2.RouteTable(
            f"{name}-public-routes",
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block=WORLD, gateway_id=internet_gateway.id)],
            tags={"Name": f"{args.cluster_name}-public"},
            opts=local,
        )
        self.public_subnets = []
        self.private_subnets = []
        for zone, public_cidr, private_cidr in zip(
            args.availability_zones, args.public_subnet_cidrs, args.private_subnet_cidrs, strict=True
        ):
            public = aws.ec2.Subnet(
                f"{name}-public-{zone}",
                vpc_id=self.vpc.id,
                cidr_block=public_cidr,
                availability_zone=zone,
                # NAT gateways and NLBs get their own EIPs; nothing here needs auto-assigned public IPs.
                map_public_ip_on_launch=False,
                tags={"Name": f"{args.cluster_name}-public-{zone}", "kubernetes.io/role/elb": "1", **cluster_tag},
                opts=local,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}", subnet_id=public.id, route_table_id=public_routes.id, opts=local
            )
            self.public_subnets.append(public)
            self.private_subnets.append(
                aws.ec2.Subnet(
                    f"{name}-private-{zone}",
                    vpc_id=self.vpc.id,
                    cidr_block=private_cidr,
                    availability_zone=zone,
                    tags={
                        "Name": f"{args.cluster_name}-private-{zone}",
                        "kubernetes.io/role/internal-elb": "1",
                        **cluster_tag,
                    },
                    opts=local,
                )
            )

        nat_zones = args.availability_zones if args.nat_gateway_per_az else args.availability_zones[:1]
        self.nat_gateways = []
        for zone, public in zip(nat_zones, self.public_subnets, strict=False):
            address = aws.ec2.Eip(
                f"{name}-nat-{zone}", domain="vpc", tags={"Name": f"{args.cluster_name}-nat-{zone}"}, opts=local
            )
            self.nat_gateways.append(
                aws.ec2.NatGateway(
                    f"{name}-nat-{zone}",
                    allocation_id=address.id,
                    subnet_id=public.id,
                    tags={"Name": f"{args.cluster_name}-nat-{zone}"},
                    # The gateway needs the VPC's internet route to be usable.
                    opts=pulumi.ResourceOptions(parent=self, depends_on=[internet_gateway]),
                )
            )

        private_route_tables = []
        for index, (zone, private) in enumerate(zip(args.availability_zones, self.private_subnets, strict=True)):
            # Each private subnet leaves through the NAT gateway in its own AZ
            # when there is one (no cross-AZ data charge), else the single one.
            nat = self.nat_gateways[index] if args.nat_gateway_per_az else self.nat_gateways[0]
            routes = aws.ec2.RouteTable(
                f"{name}-private-routes-{zone}",
                vpc_id=self.vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block=WORLD, nat_gateway_id=nat.id)],
                tags={"Name": f"{args.cluster_name}-private-{zone}"},
                opts=local,
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}", subnet_id=private.id, route_table_id=routes.id, opts=local
            )
            private_route_tables.append(routes)

        # S3 from the private subnets without NAT: task logs, and the layers of
        # ECR images (ECR serves them from S3) - NAT bills $0.045 per GB it
        # processes, a gateway endpoint nothing. It adds a route to the S3
        # prefix list in each private route table, beside the inline NAT route
        # without a diff on the table: terraform-provider-aws route_table.go
        # skips `vpce-` routes when it reads `routes`.
        # https://docs.aws.amazon.com/vpc/latest/privatelink/gateway-endpoints.html
        self.s3_endpoint = aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{args.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_route_tables],
            tags={"Name": f"{args.cluster_name}-s3"},
            opts=local,
        )

        self.register_outputs(
            {
                "vpcId": self.vpc.id,
                "publicSubnetIds": [subnet.id for subnet in self.public_subnets],
                "privateSubnetIds": [subnet.id for subnet in self.private_subnets],
            }
        )

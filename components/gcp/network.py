"""Dedicated VPC: subnet with pod/service ranges, Cloud NAT, private services access, UI address."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_gcp as gcp

from components.gcp.settings import GcpSettings

# Secondary range names the cluster's ip_allocation_policy refers to.
PODS_RANGE = "pods"
SERVICES_RANGE = "services"


@dataclass(frozen=True)
class NetworkArgs:
    settings: GcpSettings
    # The compute and servicenetworking APIs.
    apis: Sequence[pulumi.Resource]
    # The regional address of the plain-HTTP UI LoadBalancer; with HTTPS the
    # Gateway has its own global address and this one would cost for nothing.
    ui_address: bool = True


class Network(pulumi.ComponentResource):
    network: gcp.compute.Network
    subnet: gcp.compute.Subnetwork
    private_services_range: gcp.compute.GlobalAddress
    private_services: gcp.servicenetworking.Connection
    # None with gcp.uiAccess: portForward (an unused reserved address still bills),
    # or with ui.domain (the HTTPS Gateway has its own global address).
    ui_address: gcp.compute.Address | None

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("airflow-platform:gcp:Network", name, None, opts)
        settings = args.settings
        depends = pulumi.ResourceOptions(parent=self, depends_on=list(args.apis))

        # Custom mode: the auto-mode subnets (10.128.0.0/9) would collide
        # with peered networks and say nothing about what lives where.
        self.network = gcp.compute.Network(
            f"{name}-vpc", auto_create_subnetworks=False, routing_mode="REGIONAL", opts=depends
        )
        self.subnet = gcp.compute.Subnetwork(
            f"{name}-subnet",
            network=self.network.id,
            region=settings.region,
            ip_cidr_range=settings.subnet_cidr,
            secondary_ip_ranges=[
                gcp.compute.SubnetworkSecondaryIpRangeArgs(range_name=PODS_RANGE, ip_cidr_range=settings.pods_cidr),
                gcp.compute.SubnetworkSecondaryIpRangeArgs(
                    range_name=SERVICES_RANGE, ip_cidr_range=settings.services_cidr
                ),
            ],
            # Private nodes reach Google APIs (GCS logs, Artifact Registry,
            # Cloud Logging) without a public IP or a trip through NAT.
            private_ip_google_access=True,
            opts=depends,
        )
        router = gcp.compute.Router(f"{name}-router", network=self.network.id, region=settings.region, opts=depends)
        # Private nodes have no external IP: NAT lets them pull images from
        # Docker Hub / quay.io and git-sync reach github.com.
        gcp.compute.RouterNat(
            f"{name}-nat",
            router=router.name,
            region=settings.region,
            nat_ip_allocate_option="AUTO_ONLY",
            source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config=gcp.compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=depends,
        )

        # Private services access: Cloud SQL gets an address inside this
        # range, peered into the VPC, with no public IP at all.
        private_services = ipaddress.ip_network(settings.private_services_cidr)
        self.private_services_range = gcp.compute.GlobalAddress(
            f"{name}-private-services",
            network=self.network.id,
            purpose="VPC_PEERING",
            address_type="INTERNAL",
            address=str(private_services.network_address),
            prefix_length=private_services.prefixlen,
            opts=depends,
        )
        self.private_services = gcp.servicenetworking.Connection(
            f"{name}-private-services",
            network=self.network.id,
            service="servicenetworking.googleapis.com",
            reserved_peering_ranges=[self.private_services_range.name],
            # Google refuses to delete the peering while the producer (Cloud
            # SQL) still exists or just went away; deleting the VPC removes it.
            deletion_policy="ABANDON",
            opts=depends,
        )

        # A reserved address keeps the UI's IP stable across Service
        # re-creation (chart upgrades), so allowlists and DNS stay valid.
        self.ui_address = None
        if settings.ui_access == "loadBalancer" and args.ui_address:
            self.ui_address = gcp.compute.Address(
                f"{name}-ui",
                region=settings.region,
                address_type="EXTERNAL",
                network_tier="PREMIUM",
                opts=depends,
            )
        self.register_outputs(
            {
                "network": self.network.id,
                "subnet": self.subnet.id,
                "uiAddress": self.ui_address.address if self.ui_address is not None else None,
            }
        )

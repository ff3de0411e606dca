"""A generic gRPC client, outside the Rust code, that knows chiso only
through server reflection: it lists each back service's services, then
calls methods whose message types it learns from reflection.

usage: check.py REGISTRY_ADDR SUBMISSION_ADDR AGGREGATION_ADDR ADMIN_SECRET
                [INDICATOR AREA PERIOD]

The aggregate asked for last defaults to chiso up's demo data (province 44,
2024); a deployment without the demo names what its walk-through reported.
"""

import sys

import grpc
from google.protobuf import descriptor_pool, json_format, message_factory
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

EXPECTED = {
    0: {
        "chiso.registry.v1.AgencyService",
        "chiso.registry.v1.CredentialService",
        "chiso.registry.v1.RegistrationService",
        "chiso.registry.v1.SigningKeyService",
    },
    1: {
        "chiso.submission.v1.CatalogueService",
        "chiso.submission.v1.FormService",
        "chiso.submission.v1.ReportService",
        "chiso.submission.v1.ChangeFeedService",
    },
    2: {"chiso.aggregation.v1.AggregationService"},
}


class Reflected:
    """Messages and methods of one server, learnt through reflection."""

    def __init__(self, addr):
        self.channel = grpc.insecure_channel(addr)
        self.db = ProtoReflectionDescriptorDatabase(self.channel)
        self.pool = descriptor_pool.DescriptorPool(self.db)

    def services(self):
        return set(self.db.get_services())

    def call(self, method, request, token=None):
        service_name, method_name = method.rsplit("/", 1)
        service = self.pool.FindServiceByName(service_name)
        m = service.FindMethodByName(method_name)
        req_cls = message_factory.GetMessageClass(m.input_type)
        resp_cls = message_factory.GetMessageClass(m.output_type)
        stub = self.channel.unary_unary(
            f"/{service_name}/{method_name}",
            request_serializer=lambda msg: msg.SerializeToString(),
            response_deserializer=resp_cls.FromString,
        )
        metadata = [("authorization", f"Bearer {token}")] if token else None
        response = stub(json_format.ParseDict(request, req_cls()), metadata=metadata, timeout=10)
        return json_format.MessageToDict(response, preserving_proto_field_name=True)


def main():
    if len(sys.argv) not in (5, 8):
        sys.exit(__doc__)
    addrs, secret = sys.argv[1:4], sys.argv[4]
    indicator, area, period = sys.argv[5:8] or ["computer_equipment_rate", "44", "2024"]
    servers = [Reflected(a) for a in addrs]
    for i, server in enumerate(servers):
        services = server.services()
        print(f"{addrs[i]}: {', '.join(sorted(services))}")
        chiso = {s for s in services if s.startswith("chiso.")}
        if chiso != EXPECTED[i] or "grpc.health.v1.Health" not in services:
            sys.exit(f"FAIL: {addrs[i]} lists {sorted(services)}, expected {sorted(EXPECTED[i])} and health")

    token = servers[0].call(
        "chiso.registry.v1.CredentialService/IssueToken",
        {"client_id": "admin", "client_secret": secret},
    )
    assert token["token_type"] == "Bearer", token
    print(f"IssueToken: role {token['principal']['role']}, expires in {token['expires_in']} s")

    indicators = servers[1].call(
        "chiso.submission.v1.CatalogueService/ListIndicators", {}, token["access_token"]
    )["indicators"]
    codes = [i["code"] for i in indicators]
    assert "computer_equipment_rate" in codes, codes
    print(f"ListIndicators: {', '.join(codes)}")

    aggregate = servers[2].call(
        "chiso.aggregation.v1.AggregationService/GetAggregate",
        {"indicator": indicator, "area": area, "period": period},
        token["access_token"],
    )
    print(f"GetAggregate: {aggregate}")
    print("reflection check passed")


if __name__ == "__main__":
    main()

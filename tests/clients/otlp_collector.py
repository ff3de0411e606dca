"""A stand-in OpenTelemetry collector: receives OTLP/gRPC trace exports and,
when stopped, checks that one trace spans the gateway's HTTP request, a gRPC
call into a back service and a database span below it.

usage: otlp_collector.py PORT READY_FILE   (stop it with SIGTERM)
"""

import signal
import sys
import threading
from concurrent import futures

import grpc
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

spans = []
lock = threading.Lock()


class Collector(trace_service_pb2_grpc.TraceServiceServicer):
    def Export(self, request, context):
        with lock:
            for resource_spans in request.resource_spans:
                for scope_spans in resource_spans.scope_spans:
                    spans.extend(scope_spans.spans)
        return trace_service_pb2.ExportTraceServiceResponse()


def check():
    by_id = {s.span_id: s for s in spans}
    for s in spans:
        if not s.name.startswith("db."):
            continue
        # Walk up from a database span to the root of its trace.
        chain, current = [s.name], s
        while current.parent_span_id and current.parent_span_id in by_id:
            current = by_id[current.parent_span_id]
            chain.append(current.name)
        if "grpc.request" in chain and any(n.startswith("HTTP") or n == "request" for n in chain):
            print("one trace spans " + " <- ".join(chain))
            return True
    names = sorted({s.name for s in spans})
    print(f"FAIL: no trace from the gateway through gRPC to the database among {len(spans)} spans: {names}")
    return False


def main():
    port, ready = sys.argv[1], sys.argv[2]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Collector(), server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    open(ready, "w").close()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    stopped.wait()
    server.stop(1)
    sys.exit(0 if check() else 1)


if __name__ == "__main__":
    main()

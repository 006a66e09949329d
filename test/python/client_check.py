#!/usr/bin/env python3
"""Calls the gateway from outside .NET: RegisterConnection, then ListConnections.

Stubs are generated at run time from Gateway/Protos/controller.proto into a temporary
directory (grpc_tools.protoc), so the check always uses the current contract.

Usage: client_check.py --target localhost:9090 --pool POOL --client-id ID [--token TOKEN]
Prints one JSON line with what it saw; exit code 0 only if both calls behaved.
"""
import argparse
import importlib
import json
import os
import sys
import tempfile
import time

import grpc
import grpc_tools
from grpc_tools import protoc

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PROTOS = os.path.join(ROOT, "Gateway", "Protos")


def generate(out_dir):
    well_known = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    sources = ["controller.proto", "google/api/annotations.proto", "google/api/http.proto"]
    rc = protoc.main(["protoc", f"-I{PROTOS}", f"-I{well_known}", f"--python_out={out_dir}",
                      f"--grpc_python_out={out_dir}"] + sources)
    if rc != 0:
        raise SystemExit(f"protoc failed with {rc}")
    # No __init__.py: "google" stays a namespace package, so google.api (here) and
    # google.protobuf (Debian's python3-protobuf) are both importable.
    sys.path.insert(0, out_dir)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", required=True)
    parser.add_argument("--pool", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--token", default=os.environ.get("GATEWAY_TOKEN", ""))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as out:
        generate(out)
        pb = importlib.import_module("controller_pb2")
        rpc = importlib.import_module("controller_pb2_grpc")

        metadata = [("authorization", f"Bearer {args.token}")] if args.token else []
        with grpc.insecure_channel(args.target) as channel:
            stub = rpc.ControllerServiceStub(channel)
            request = pb.RegisterConnectionRequest(client_id=args.client_id, server_pool=args.pool)
            request.metadata["source"] = "python"
            registered = stub.RegisterConnection(request, metadata=metadata, timeout=10).connection

            listed = []
            for _ in range(100):  # the listing index is updated asynchronously
                page = stub.ListConnections(pb.ListConnectionsRequest(client_id=args.client_id, page_size=10),
                                            metadata=metadata, timeout=10)
                listed = [c.connection_id for c in page.connections]
                if registered.connection_id in listed:
                    break
                time.sleep(0.05)

            # A refusal must come back as a proper status code, not a crash.
            try:
                stub.GetConnection(pb.GetConnectionRequest(connection_id="no such id"), metadata=metadata, timeout=10)
                invalid = "OK"
            except grpc.RpcError as e:
                invalid = e.code().name

        result = {
            "connection_id": registered.connection_id,
            "server_id": registered.server_id,
            "status": pb.ConnectionStatus.Name(registered.status),
            "listed": registered.connection_id in listed,
            "invalid_id": invalid,
        }
        print(json.dumps(result))
        ok = result["listed"] and result["status"] == "CONNECTION_STATUS_REQUESTED" and invalid == "INVALID_ARGUMENT"
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

"""A trace sink for the generated services: an OTLP/HTTP receiver on localhost.

Run as a process of its own (`python sink.py PORT FILE`), so decoding costs nothing while
the load runs: it appends each export request's protobuf body to FILE (length-prefixed)
and answers 200. `otlp_json` later turns the file into OTLP JSON documents, one per export,
as an OpenTelemetry Collector's file exporter writes them.
"""

from __future__ import annotations

import gzip
import struct
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def serve(port: int, path: Path) -> None:
    out = path.open("ab")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # the http.server API names it
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            out.write(struct.pack(">I", len(body)) + body)
            out.flush()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()


def otlp_json(path: Path) -> list[dict[str, Any]]:
    """The export requests received, as OTLP JSON documents."""
    from google.protobuf.json_format import MessageToDict
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    data = path.read_bytes() if path.exists() else b""
    documents, at = [], 0
    while at + 4 <= len(data):
        (size,) = struct.unpack(">I", data[at:at + 4])
        request = ExportTraceServiceRequest()
        request.ParseFromString(data[at + 4:at + 4 + size])
        documents.append(MessageToDict(request))
        at += 4 + size
    return documents


if __name__ == "__main__":
    serve(int(sys.argv[1]), Path(sys.argv[2]))

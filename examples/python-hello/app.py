"""A tiny web app for S2I demos: no dependencies, answers on port 8080."""

import json
import os
from http.server import BaseHTTPRequestHandler, HTTPServer


class Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps(
            {
                "message": os.environ.get("GREETING", "hello"),
                "build": os.environ.get("OPENSHIFT_BUILD_NAME", ""),
                "commit": os.environ.get("OPENSHIFT_BUILD_COMMIT", ""),
            }
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        print(format % args, flush=True)


if __name__ == "__main__":
    HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "8080"))), Hello).serve_forever()  # noqa: S104

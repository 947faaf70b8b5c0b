"""A loopback HTTPS server of stand-in wheels, for tests that lock a wheel URL GitHub would serve.

A stand-in has the real file name and valid metadata (name, version, dependencies) and nothing else: enough for
uv to lock and resolve it. uv trusts the server through SSL_CERT_FILE, a bundle of certifi's roots plus a test CA.
"""

import base64
import hashlib
import http.server
import io
import ssl
import threading
import zipfile
from contextlib import contextmanager
from pathlib import Path

import certifi
import trustme
from packaging.utils import parse_wheel_filename


def stand_in_wheel(file_name: str, requires: tuple[str, ...] = ("torch", "einops")) -> bytes:
    """A minimal valid wheel with this file name: METADATA, WHEEL and RECORD."""
    name, version, _, tags = parse_wheel_filename(file_name)
    dist_info = f"{file_name.split('-')[0]}-{file_name.split('-')[1]}.dist-info"
    metadata = "".join(
        [f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", *(f"Requires-Dist: {r}\n" for r in requires)]
    )
    wheel = "Wheel-Version: 1.0\nGenerator: copier-zerogpu tests\nRoot-Is-Purelib: false\n" + "".join(
        f"Tag: {tag}\n" for tag in sorted(map(str, tags))
    )
    files = {f"{dist_info}/METADATA": metadata, f"{dist_info}/WHEEL": wheel}
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    files[f"{dist_info}/RECORD"] = "\n".join([*record, f"{dist_info}/RECORD,,"]) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


@contextmanager
def serve_stand_in_wheels(folder: Path):
    """Yield (base_url, env): wheels named in any request path are built on the fly; env makes uv trust the server."""
    authority = trustme.CA()
    bundle = folder / "ca-bundle.pem"
    bundle.write_bytes(Path(certifi.where()).read_bytes() + authority.cert_pem.bytes())
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_HEAD(self):
            self.send_wheel(with_body=False)

        def do_GET(self):
            self.send_wheel(with_body=True)

        def send_wheel(self, with_body: bool) -> None:
            file_name = self.path.rsplit("/", 1)[-1].replace("%2B", "+")
            try:
                body = stand_in_wheel(file_name)
            except ValueError:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if with_body:
                self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}", {"SSL_CERT_FILE": str(bundle)}
    finally:
        server.shutdown()
        server.server_close()

"""`make serve-https`: the app with production settings, over real TLS.

Starts two gunicorn servers: HTTPS on 127.0.0.1:8443 with a self-signed certificate made on
first use (by trustme, kept in the data folder, never committed), and plain HTTP on
127.0.0.1:8080, whose every request Django redirects to the HTTPS port. Before that it
migrates, collects static files and, unless --no-seed, creates the demo data.

    python -m project.serve_https [--https-port 8443] [--http-port 8080] [--data-dir .tls]

The e2e suite starts it the same way (e2e/test_https.py).
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def make_certificate(data_dir: Path) -> tuple[Path, Path, Path]:
    """(CA certificate, server certificate chain, server key), created once."""
    ca_path = data_dir / "ca.pem"
    cert_path = data_dir / "server.pem"
    key_path = data_dir / "server-key.pem"
    if not (ca_path.exists() and cert_path.exists() and key_path.exists()):
        import trustme

        ca = trustme.CA(organization_name="Bookshelf local test CA")
        server = ca.issue_cert("127.0.0.1", "localhost", "::1")
        ca.cert_pem.write_to_path(str(ca_path))
        server.private_key_pem.write_to_path(str(key_path))
        with cert_path.open("wb") as chain:
            for blob in server.cert_chain_pems:
                chain.write(blob.bytes())
        key_path.chmod(0o600)
    return ca_path, cert_path, key_path


def secret_key(data_dir: Path) -> str:
    """A random key kept with the certificate (this is a local server, not a deployment)."""
    path = data_dir / "secret-key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--https-port", type=int, default=8443)
    parser.add_argument("--http-port", type=int, default=8080)
    parser.add_argument("--data-dir", type=Path, default=BASE_DIR / ".tls")
    parser.add_argument("--no-seed", action="store_true", help="Skip the demo data.")
    args = parser.parse_args()

    data_dir = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    ca_path, cert_path, key_path = make_certificate(data_dir)
    hosts = ["127.0.0.1", "localhost"]
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings.prod",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY") or secret_key(data_dir),
        "DJANGO_ALLOWED_HOSTS": ",".join(hosts),
        # Plain-HTTP requests must be sent to the TLS port, not to the port they came in on.
        "DJANGO_SECURE_SSL_HOST": f"127.0.0.1:{args.https_port}",
        "DJANGO_CSRF_TRUSTED_ORIGINS": ",".join(f"https://{h}:{args.https_port}" for h in hosts),
        "DJANGO_STATIC_ROOT": str(data_dir / "static"),
    }
    python = sys.executable
    manage = [python, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], env=env, check=True)
    subprocess.run([*manage, "collectstatic", "--noinput", "-v0"], env=env, check=True)
    if not args.no_seed:
        # Demo accounts have a known password: only on this local server, hence --force.
        subprocess.run([*manage, "seed_demo", "--force"], env=env, check=True)

    # No control socket: two servers would fight over the same default path.
    gunicorn = [
        python,
        "-m",
        "gunicorn",
        "project.wsgi:application",
        "--chdir",
        str(BASE_DIR),
        "--no-control-socket",
    ]
    servers = [
        subprocess.Popen(
            [
                *gunicorn,
                f"--bind=127.0.0.1:{args.https_port}",
                f"--certfile={cert_path}",
                f"--keyfile={key_path}",
                "--workers=2",
            ],
            env=env,
        ),
        subprocess.Popen([*gunicorn, f"--bind=127.0.0.1:{args.http_port}", "--workers=1"], env=env),
    ]
    print(
        f"Bookshelf on https://127.0.0.1:{args.https_port}/ "
        f"(plain HTTP on :{args.http_port} redirects there). Trust {ca_path} or accept the "
        "certificate warning.",
        flush=True,
    )

    def stop(*_: object) -> None:
        for server in servers:
            server.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    codes = [server.wait() for server in servers]
    return max(codes, key=abs)


if __name__ == "__main__":
    sys.exit(main())

"""A throwaway PKI for the local control plane: one CA, serving and client certificates, the SA signing key."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from .paths import NODE_NAME

SERVING_SANS = (
    "localhost",
    "kubernetes",
    "kubernetes.default",
    "kubernetes.default.svc",
    "kubernetes.default.svc.cluster.local",
)
SERVING_IPS = ("127.0.0.1", "10.96.0.1")

# file stem -> (common name, organisation) of each client certificate
CLIENTS = {
    "admin": ("kubernetes-admin", "system:masters"),
    "controller-manager": ("system:kube-controller-manager", None),
    "scheduler": ("system:kube-scheduler", None),
    # the real node: the kubelet (Node authorizer), kube-proxy (bootstrap role system:node-proxier), and the API
    # server's client certificate towards the kubelet (logs, exec)
    "kubelet": (f"system:node:{NODE_NAME}", "system:nodes"),
    "kube-proxy": ("system:kube-proxy", None),
    "apiserver-kubelet-client": ("kube-apiserver-kubelet-client", "system:masters"),
}


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _write_key(path: Path, key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> None:
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


def _builder(subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=365))
    )


def _load_ca(pki: Path) -> tuple[ec.EllipticCurvePrivateKey, x509.Name]:
    if not (pki / "ca.crt").exists():
        ca_key = _key()
        ca_name = _name("scribe-local-ca")
        ca = (
            _builder(ca_name, ca_name, ca_key.public_key())
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
            .sign(ca_key, hashes.SHA256())
        )
        _write_key(pki / "ca.key", ca_key)
        (pki / "ca.crt").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    key = serialization.load_pem_private_key((pki / "ca.key").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key, x509.load_pem_x509_certificate((pki / "ca.crt").read_bytes()).subject


def _serving_ips(cert_file: Path) -> set[str]:
    if not cert_file.exists():
        return set()
    cert = x509.load_pem_x509_certificate(cert_file.read_bytes())
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    return {str(ip) for ip in sans.get_values_for_type(x509.IPAddress)}


def _issue(pki: Path, stem: str, subject: x509.Name, ips: tuple[str, ...] | None) -> None:
    """``<stem>.crt``/``.key`` signed by the CA: a serving certificate for ``ips`` (and the serving DNS names), or a
    client certificate when ``ips`` is None."""
    ca_key, ca_name = _load_ca(pki)
    key = _key()
    builder = _builder(subject, ca_name, key.public_key()).add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    )
    if ips is not None:
        sans: list[x509.GeneralName] = [x509.DNSName(n) for n in SERVING_SANS]
        sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        usage = [ExtendedKeyUsageOID.SERVER_AUTH]
    else:
        usage = [ExtendedKeyUsageOID.CLIENT_AUTH]
    cert = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False).sign(ca_key, hashes.SHA256())
    _write_key(pki / f"{stem}.key", key)
    (pki / f"{stem}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def ensure_client(pki: Path, stem: str, cn: str, org: str | None = None) -> None:
    """A client certificate ``<stem>.crt`` for user ``cn`` (in group ``org``), signed by the CA; idempotent. Tools
    that must be told apart in the audit log (the scale benchmark's operator and kwok) get their own user."""
    if not (pki / f"{stem}.crt").exists():
        _issue(pki, stem, _name(cn, org), None)


def ensure_pki(pki: Path, serving_ips: tuple[str, ...] = ()) -> None:
    """Create what is missing of the PKI under `pki` (idempotent): the CA, every client certificate, the SA key,
    and the API server's serving certificate, reissued when it lacks one of `serving_ips`."""
    pki.mkdir(parents=True, exist_ok=True)
    ips = tuple(dict.fromkeys((*SERVING_IPS, *serving_ips)))
    if not set(ips) <= _serving_ips(pki / "apiserver.crt"):
        _issue(pki, "apiserver", _name("kube-apiserver"), ips)
    for stem, (cn, org) in CLIENTS.items():
        ensure_client(pki, stem, cn, org)

    if not (pki / "sa.pub").exists():
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        _write_key(pki / "sa.key", sa_key)
        (pki / "sa.pub").write_bytes(
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )

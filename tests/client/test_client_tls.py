"""TLS: an https API is verified against the CA bundle (httpx's default); a plain http:// API's Client never
speaks TLS, so it skips loading the bundle and holds a context that trusts nothing: it fails closed."""

from __future__ import annotations

import ssl

from scripts._http import _tls_for


def test_an_https_api_is_verified_as_httpx_does_by_default() -> None:
    assert _tls_for("https://broker.example.com") is True
    assert _tls_for("HTTPS://broker.example.com") is True


def test_a_plain_http_apis_client_trusts_no_certificate_at_all() -> None:
    context = _tls_for("http://127.0.0.1:8700")
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname
    assert context.cert_store_stats()["x509_ca"] == 0  # no trust anchors: any certificate would be refused

#!/bin/sh
# Writes the self-signed certificate and key the TLS tests serve with: Tests/Fixtures/tls/localhost.pem and
# localhost.key (EC P-256, CN and subjectAltName localhost and 127.0.0.1, valid for 100 years). Test-only:
# the key is public, so nothing but the tests may trust this certificate.
set -eu
dir="$(dirname "$0")/../Tests/Fixtures/tls"
mkdir -p "$dir"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 36500 \
    -subj "/CN=localhost" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$dir/localhost.key" -out "$dir/localhost.pem"
echo "wrote $dir/localhost.pem and $dir/localhost.key"
# A second key, which belongs to no certificate (the test of a mismatched --tls-key).
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/other.key"
echo "wrote $dir/other.key"

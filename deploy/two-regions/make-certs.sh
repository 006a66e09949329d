#!/bin/sh
# Certificates for two regions on one machine (docs/two-regions.md). Writes into the current directory:
#   ca.pem / ca.key           a private CA (trusted by both gateways, by curl, by the sidecars)
#   server.pem / server.key   the gateways' server certificate: SAN localhost and 127.0.0.1 (must match Peer:Address)
#   bank-eu.pfx, scheme-eu.pfx  each region's peer client certificate: CN = region (= the receiver's Peer:Region),
#                             OU = peer; PFX with an empty password, which Gateway:Peer:ClientCertificatePath needs
#   alice.pem / alice.key     an operator's client certificate (CN = name, OU = operator), for curl
#   visa-1-sidecar.pfx, visa-2-sidecar.pfx  the scheme servers' sidecars (CN = sidecar id, OU = sidecar), PFX as above
# Demo only: 30 days, no passwords, keys on disk.
set -e
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
  -subj "/CN=Two Regions Demo CA" -keyout ca.key -out ca.pem \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
issue() { # file subject extensions
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$2" -keyout "$1.key" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -extfile "$1.ext" -out "$1.pem"
}
issue server "/CN=localhost" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1"
for who in bank-eu:peer scheme-eu:peer alice:operator visa-1-sidecar:sidecar visa-2-sidecar:sidecar; do
  cn=${who%%:*}
  issue "$cn" "/CN=$cn/OU=${who##*:}" "basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth"
done
for name in bank-eu scheme-eu visa-1-sidecar visa-2-sidecar; do
  openssl pkcs12 -export -inkey "$name.key" -in "$name.pem" -certfile ca.pem -passout pass: -out "$name.pfx"
done
rm -f ./*.csr ./*.ext ca.srl
echo "certificates written to $(pwd)"

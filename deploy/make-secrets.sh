#!/bin/sh
# Copies deploy/ to OUT_DIR and fills the copy's secrets with fresh random values, so nothing usable is ever
# committed (the repository's secrets/*.env hold REPLACE-ME placeholders, which the controller and the sidecar
# refuse at start-up). Apply from the copy: kubectl apply -k OUT_DIR/overlays/scheme (and .../bank).
#
#   deploy/make-secrets.sh OUT_DIR [--certs]
#
# Writes, in OUT_DIR/overlays/<region>/secrets/:
#   redis.env               password=<64 hex>                  (both regions)
#   kafka.env               password=<64 hex>                  (both regions; set the same on the region's MSK SCRAM user)
#   sidecar-tokens.env      bank-client-N=<64 hex>, N < BANK_CLIENTS (bank; default 2, the StatefulSet's replicas)
#   registrar-token.env     token=<64 hex>                     (scheme)
#   gateway-tokens.env      Gateway__Auth__Tokens__N__{Subject,Role,Sha256}: the SHA-256 of each token above, as the
#                           gateway knows them (its ConfigMap); the tokens themselves never leave the Secrets
# With --certs, also development certificates (private CAs, 90 days) in OUT_DIR/certs/<region>/<secret>/ with
# OUT_DIR/certs/create-secrets.sh, which creates the Secrets deploy/README.md lists (cert-manager in production).
# Needs openssl and sha256sum. OUT_DIR must not exist or be empty; keep it out of version control.
set -eu

out=${1:?usage: make-secrets.sh OUT_DIR [--certs]}
certs=${2:-}
here=$(cd "$(dirname "$0")" && pwd)
clients=${BANK_CLIENTS:-2}

if [ -e "$out" ] && [ -n "$(ls -A "$out" 2>/dev/null)" ]; then
  echo "make-secrets.sh: $out exists and is not empty" >&2
  exit 2
fi
mkdir -p "$out"
cp -R "$here/." "$out/"
umask 077

random() { openssl rand -hex 32; }
sha() { printf %s "$1" | sha256sum | cut -d' ' -f1; }

# One entry of the gateway's token list: index subject role token
token_entry() {
  printf 'Gateway__Auth__Tokens__%s__Subject=%s\nGateway__Auth__Tokens__%s__Role=%s\nGateway__Auth__Tokens__%s__Sha256=%s\n' \
    "$1" "$2" "$1" "$3" "$1" "$(sha "$4")"
}

for region in bank scheme; do
  printf 'password=%s\n' "$(random)" > "$out/overlays/$region/secrets/redis.env"
  printf 'password=%s\n' "$(random)" > "$out/overlays/$region/secrets/kafka.env"
done

bank=$out/overlays/bank/secrets
: > "$bank/sidecar-tokens.env"
: > "$bank/gateway-tokens.env"
i=0
while [ "$i" -lt "$clients" ]; do
  t=$(random)
  printf 'bank-client-%s=%s\n' "$i" "$t" >> "$bank/sidecar-tokens.env"
  token_entry "$i" "bank-client-$i" sidecar "$t" >> "$bank/gateway-tokens.env"
  i=$((i + 1))
done

scheme=$out/overlays/scheme/secrets
t=$(random)
printf 'token=%s\n' "$t" > "$scheme/registrar-token.env"
token_entry 0 scheme-registrar operator "$t" > "$scheme/gateway-tokens.env"

echo "secrets written under $out/overlays/*/secrets (bank clients: $clients)"
[ "$certs" = "--certs" ] || exit 0

# Development certificates: one private CA per purpose, so that no certificate opens a door it was not made for.
c=$out/certs
mkdir -p "$c/ca"
ca() { # name
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 90 -subj "/CN=OrleansControl $1 CA" \
    -keyout "$c/ca/$1.key" -out "$c/ca/$1.crt" -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
issue() { # ca dir subject eku san [peer-ca]: tls.crt, tls.key and ca.crt (the peer's CA, or the issuer's)
  mkdir -p "$2"
  openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "$3" -keyout "$2/tls.key" -out "$2/tls.csr" 2>/dev/null
  { echo "basicConstraints=CA:FALSE"; echo "keyUsage=critical,digitalSignature"; echo "extendedKeyUsage=$4"
    [ -n "$5" ] && echo "subjectAltName=$5"; } > "$2/ext"
  openssl x509 -req -in "$2/tls.csr" -CA "$c/ca/$1.crt" -CAkey "$c/ca/$1.key" -CAcreateserial -days 90 \
    -extfile "$2/ext" -out "$2/tls.crt" 2>/dev/null
  cp "$c/ca/${6:-$1}.crt" "$2/ca.crt"
  rm -f "$2/tls.csr" "$2/ext"
}
for purpose in iso-server iso-client redis-bank redis-scheme silo-bank silo-scheme gateway; do ca "$purpose"; done
issue iso-server "$c/scheme/scheme-iso-tls" "/CN=scheme-iso.scheme.example.internal" serverAuth \
  "DNS:scheme-iso.scheme.example.internal" iso-client
issue iso-client "$c/bank/bank-iso-tls" "/CN=bank-iso-client" clientAuth "" iso-server
for region in bank scheme; do
  issue "redis-$region" "$c/$region/orleanscontrol-redis-tls" "/CN=orleanscontrol-redis" serverAuth "DNS:orleanscontrol-redis"
  issue "silo-$region" "$c/$region/orleanscontrol-silo-tls" "/CN=orleanscontrol-silo-$region" serverAuth,clientAuth ""
  issue gateway "$c/$region/orleanscontrol-controller-tls" "/CN=orleanscontrol-gateway" serverAuth \
    "DNS:orleanscontrol-gateway,DNS:orleanscontrol-gateway.orleanscontrol-$region.svc,DNS:gateway.$region.example.internal"
  issue gateway "$c/$region/peer-client" "/CN=$region-eu/OU=peer" clientAuth ""
  openssl pkcs12 -export -inkey "$c/$region/peer-client/tls.key" -in "$c/$region/peer-client/tls.crt" -passout pass: \
    -out "$c/$region/orleanscontrol-controller-tls/peer-client.pfx"
  rm -rf "$c/$region/peer-client"
done
mkdir -p "$c/bank/orleanscontrol-ca"
cp "$c/ca/gateway.crt" "$c/bank/orleanscontrol-ca/ca.crt"
{
  echo "#!/bin/sh"
  echo "# Creates the certificate Secrets of deploy/README.md from these development certificates."
  echo "set -e"
  echo 'cd "$(dirname "$0")"'
  for dir in "$c"/bank/* "$c"/scheme/*; do
    region=$(basename "$(dirname "$dir")")
    files=$(cd "$dir" && for f in *; do printf ' --from-file=%s=%s/%s' "$f" "$region/$(basename "$dir")" "$f"; done)
    echo "kubectl -n orleanscontrol-$region create secret generic $(basename "$dir")$files"
  done
} > "$c/create-secrets.sh"
chmod +x "$c/create-secrets.sh"
echo "development certificates written under $c (CA keys in $c/ca: keep or destroy them)"

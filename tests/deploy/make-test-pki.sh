#!/usr/bin/env bash
# Makes a throw-away PKI for scripts/check-deploy's TLS runs:
#   OUT/server-secret/{tls.crt,tls.key}  server certificate for sipresolver.test
#                                        (the kubernetes.io/tls Secret's keys)
#   OUT/client-ca-secret/ca.crt          CA that signs agents' certificates
#   OUT/client/{ca.crt,client.crt,client.key}  what an agent holds: the server's
#                                        CA and its own certificate
# Usage: make-test-pki.sh OUT
set -euo pipefail
out=$1
mkdir -p "$out"/{server-secret,client-ca-secret,client,work}
w=$out/work
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
ca() {  # name keyfile certfile
  key "$2"
  openssl req -x509 -new -key "$2" -subj "/CN=$1" -days 2 -out "$3" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
}
leaf() {  # cn ext cakey cacert keyfile certfile
  key "$5"
  openssl req -new -key "$5" -subj "/CN=$1" -out "$w/$1.csr" 2>/dev/null
  printf '%s\n' "$2" > "$w/$1.ext"
  openssl x509 -req -in "$w/$1.csr" -CA "$4" -CAkey "$3" -CAcreateserial -CAserial "$w/$1.srl" -days 2 \
    -extfile "$w/$1.ext" -out "$6" 2>/dev/null
}
ca "sipresolver test server CA" "$w/server-ca.key" "$out/client/ca.crt"
ca "sipresolver test agent CA" "$w/agent-ca.key" "$out/client-ca-secret/ca.crt"
leaf sipresolver.test "subjectAltName=DNS:sipresolver.test,DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth" "$w/server-ca.key" "$out/client/ca.crt" \
  "$out/server-secret/tls.key" "$out/server-secret/tls.crt"
leaf agent-1 "extendedKeyUsage=clientAuth" "$w/agent-ca.key" "$out/client-ca-secret/ca.crt" \
  "$out/client/client.key" "$out/client/client.crt"

#!/usr/bin/env bash
# Schema-driven fuzzing: runs schemathesis (pinned in fuzz/requirements.txt) against
# /openapi.json of a freshly started Tessera, as a signed-up user, and fails on any server
# error or any response that does not conform to the document.
#
#   FUZZ_MAX_EXAMPLES  examples per operation and phase (default 100)
#   FUZZ_SEED          fixed seed for a repeatable run (default: random)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
venv=.tessera/fuzz-venv
max_examples=${FUZZ_MAX_EXAMPLES:-100}

if [ ! -x "$venv/bin/st" ]; then
    echo "fuzz: installing schemathesis into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q -r fuzz/requirements.txt
fi

cargo build -q -p tessera
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
mkdir -p .tessera
STORAGE=memory JWT_SECRET="fuzz-secret-$(date +%s%N)-0123456789abcdef" BCRYPT_COST=4 \
    AUTH_RATE_LIMIT_PER_MINUTE=0 PORT="$port" RUST_LOG=warn \
    target/debug/tessera serve >.tessera/fuzz-server.log 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do
    curl -fs "$base/health" >/dev/null 2>&1 && break
    sleep 0.2
done

auth=$(curl -fs -X POST "$base/api/auth/signup" -H 'Content-Type: application/json' \
    -d '{"name": "Fuzz", "email": "fuzz@example.com", "password": "fuzzing-password-123"}')
token=$(printf '%s' "$auth" | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')
user_id=$(printf '%s' "$auth" | python3 -c 'import json, sys; print(json.load(sys.stdin)["user"]["id"])')

seed_args=()
if [ -n "${FUZZ_SEED:-}" ]; then seed_args=(--seed "$FUZZ_SEED"); fi

# Signout is left out: it would end the fuzzing user's session halfway through.
FUZZ_USER_ID="$user_id" "$venv/bin/st" --config-file fuzz/schemathesis.toml run \
    "$base/openapi.json" \
    -H "Authorization: Bearer $token" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --exclude-path /api/auth/signout \
    --max-examples "$max_examples" \
    --workers 2 \
    ${seed_args[@]+"${seed_args[@]}"}

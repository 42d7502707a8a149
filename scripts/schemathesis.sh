#!/usr/bin/env bash
# Property-based test of the JSON API against its own OpenAPI document (`/api/openapi.json`)
# with schemathesis (PyPI), on a release build of the server on loopback with a fresh SQLite
# file. Fails on any 5xx answer and on any answer the document does not
# describe (status code, content type, response schema, headers), and on inputs the document
# calls invalid that the server accepts.
#
#   scripts/schemathesis.sh                   # 300 examples per operation
#   MAX_EXAMPLES=50 scripts/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."

MAX_EXAMPLES=${MAX_EXAMPLES:-300}
PORT=${PORT:-7425}
CHECKS=${CHECKS:-not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance,response_headers_conformance,negative_data_rejection}

if ! command -v st >/dev/null; then
    echo "schemathesis: installing it from PyPI" >&2
    python3 -m pip install -q schemathesis >&2
fi

cargo build --release -q -p web --example serve
work=$(mktemp -d)
target/release/examples/serve "127.0.0.1:$PORT" "$work/api.sqlite3" >"$work/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 200); do
    curl -fs "http://127.0.0.1:$PORT/api/explain/4013" >/dev/null 2>&1 && break
    sleep 0.1
done

st run "http://127.0.0.1:$PORT/api/openapi.json" \
    --checks "$CHECKS" \
    --max-examples "$MAX_EXAMPLES" \
    --request-timeout 30 \
    --seed "${SEED:-7413}" \
    --no-color

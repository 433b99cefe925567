#!/usr/bin/env bash
# The classroom image's entry point (see the Dockerfile): JupyterLab on the course's notebooks, reachable from
# outside the container (0.0.0.0:8888) and therefore only ever with a token. The token comes from JUPYTER_TOKEN;
# without one this refuses to start. Extra arguments are passed on to `jupyter lab`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"

if [[ -z "${JUPYTER_TOKEN:-}" || -z "${JUPYTER_TOKEN//[[:space:]]/}" ]]; then
    cat >&2 <<'MSG'
error: JUPYTER_TOKEN is empty, and JupyterLab will not be served on 0.0.0.0 without a token.
Choose a token and pass it in, for example:
    export JUPYTER_TOKEN="$(python3 -c 'import secrets; print(secrets.token_urlsafe(24))')"
    docker run --rm -it --init -p 8888:8888 -e JUPYTER_TOKEN transfer-learning-course
then open http://127.0.0.1:8888/lab?token=<that token>.
MSG
    exit 64
fi

exec jupyter lab \
    --ip=0.0.0.0 \
    --port=8888 \
    --no-browser \
    --IdentityProvider.token="$JUPYTER_TOKEN" \
    --ServerApp.root_dir="$root/notebooks" \
    "$@"

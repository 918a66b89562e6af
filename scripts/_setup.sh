# Shared by scripts/serve and scripts/test: a virtual environment in .venv with logpond
# installed (editable) with the extra named in $1. Sourced, not run.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root to run: $*" >&2; return 1; fi
}

apt_install() {
    [ "$#" -eq 0 ] && return 0
    local missing=()
    for package in "$@"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    [ "${#missing[@]}" -eq 0 ] && return 0
    echo "installing Debian packages: ${missing[*]}" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "logpond needs Python 3.11 or newer; python3 is $(python3 --version)" >&2; exit 1; }

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv 2>/dev/null || {
        # Debian ships venv separately.
        apt_install "python3-venv" && rm -rf .venv && python3 -m venv .venv; }
fi
.venv/bin/python -m pip install --quiet --quiet --disable-pip-version-check -e ".[$1]"

#!/usr/bin/env bash
# Checks the deployment files without deploying anything:
#   - every Kubernetes manifest parses as YAML, each document has apiVersion, kind and metadata.name, and (when
#     kubernetes-validate from PyPI is installed) the built-in kinds validate strictly against Kubernetes 1.29;
#   - the systemd units pass `systemd-analyze verify` (when systemd-analyze exists; ExecStart pointed at /bin/true);
#   - the supervisord file parses and has the three programs.
# Exits non-zero on the first problem.
set -euo pipefail
DEPLOY=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
say() { echo "deploy check: $*" >&2; }

python3 - "$DEPLOY/kubernetes" <<'EOF'
import glob, os, sys, yaml
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.yaml"))):
    for document in yaml.safe_load_all(open(path)):
        if not document:
            continue
        if document.get("kind") == "Kustomization":
            missing = [r for r in document["resources"] if not os.path.exists(os.path.join(sys.argv[1], r))]
            assert not missing, f"{path}: missing resources {missing}"
            continue
        assert document.get("apiVersion") and document.get("kind"), f"{path}: a document without apiVersion/kind"
        assert document.get("metadata", {}).get("name"), f"{path}: a {document['kind']} without metadata.name"
print("deploy check: Kubernetes YAML parses", file=sys.stderr)
EOF
if command -v kubernetes-validate >/dev/null; then
    (cd "$DEPLOY/kubernetes" && kubernetes-validate -k 1.29.0 --strict --quiet secret.yaml configmap.yaml coordinator.yaml server.yaml worker.yaml)
    say "Kubernetes manifests validate (1.29, strict)"
fi

if command -v systemd-analyze >/dev/null; then
    scratch=$(mktemp -d)
    trap 'rm -rf "$scratch"' EXIT
    cp "$DEPLOY"/systemd/*.service "$DEPLOY"/systemd/tandem.target "$scratch"/
    mv "$scratch/tandem-worker@.service" "$scratch/tandem-worker@1.service"
    sed -i 's#/usr/local/bin/tandem#/bin/true#' "$scratch"/*.service
    (cd "$scratch" && SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no ./*.service ./tandem.target)
    say "systemd units verify"
fi

python3 - "$DEPLOY/supervisord/tandem.conf" <<'EOF'
import configparser, sys
parser = configparser.RawConfigParser()
parser.read(sys.argv[1])
programs = {s.split(":", 1)[1] for s in parser.sections() if s.startswith("program:")}
assert programs == {"tandem-coordinator", "tandem-server", "tandem-worker"}, programs
for program in programs:
    section = parser["program:" + program]
    assert int(section["stopwaitsecs"]) > 8, f"{program}: stopwaitsecs must exceed the 8 s drain"
    assert section["stopsignal"] == "TERM"
print("deploy check: supervisord configuration parses", file=sys.stderr)
EOF
say "ok"

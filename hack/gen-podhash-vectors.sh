#!/usr/bin/env bash
# Regenerates tests/unit/api/podhash_vectors.json: random pod templates hashed by
# Go with the real k8s.io/api types, exactly as Argo Rollouts hashes them.
# The unit tests check that rollouts/api/podhash.py gives the same JSON and hash.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$here/gen-podtemplate-order/vectors/main.go" "$work/"
(
  cd "$work"
  go mod init local/podhash-vectors >/dev/null 2>&1
  go get k8s.io/api@v0.35.4 k8s.io/apimachinery@v0.35.4 >/dev/null 2>&1
  go mod tidy >/dev/null 2>&1
  go build -o vectors .
)
"$python" "$here/gen-podtemplate-order/vectors/random_templates.py" 240 1 > "$work/in.json"
"$work/vectors" < "$work/in.json" > "$work/out.json"
"$python" "$here/gen-podtemplate-order/vectors/random_templates.py" --quantities 150 7 > "$work/q.json"
"$work/vectors" < "$work/q.json" > "$work/qout.json"
"$python" - "$work/in.json" "$work/out.json" "$work/q.json" "$work/qout.json" "$repo/tests/unit/api/podhash_vectors.json" <<'PY'
import json, sys
def pairs(inputs, outputs):
    return [dict(item, json=out["json"], hash=out["hash"]) for item, out in zip(json.load(open(inputs)), json.load(open(outputs)))]
# Keep the file small: the smaller templates only, then the quantity spellings.
vectors = [v for v in pairs(sys.argv[1], sys.argv[2]) if len(v["json"]) < 3000][:60]
vectors += pairs(sys.argv[3], sys.argv[4])
with open(sys.argv[5], "w") as f:
    json.dump(vectors, f, ensure_ascii=False, indent=None, separators=(",", ":"))
    f.write("\n")
print(f"wrote {len(vectors)} vectors to {sys.argv[5]}", file=sys.stderr)
PY

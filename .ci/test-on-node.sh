#!/usr/bin/env bash
# Runs every workspace's `test` script on the `node` first on PATH, which must be Node <major>.
#
#   npx -y -p node@22 -c 'bash .ci/test-on-node.sh 22'
#
# `npm test` can't do this: npm puts node_modules/.bin first on a script's PATH, and the repo pins
# Node 24 there as the `node` devDependency. So this script runs each test script itself, the way
# npm would (in the workspace, with node_modules/.bin on PATH) but with the wanted Node in front.
# Every Node process of the run (vitest and its workers) loads .ci/node-version.mjs, which prints
# the version once and refuses to run on another major.
set -euo pipefail

# Time limits, in seconds: the whole pass (as for the Node 24 pass in .ci/run), and one workspace,
# so that a hung suite doesn't use up the time of the ones after it. Each workspace runs under its
# own `timeout`, which kills its whole process group (vitest workers included).
total_timeout="${OMNIBUS_TEST_TIMEOUT:-1500}"
workspace_timeout="${OMNIBUS_WORKSPACE_TEST_TIMEOUT:-420}"
deadline=$((SECONDS + total_timeout))
expected="${1:?usage: test-on-node.sh <node major>}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

node_bin="$(command -v node)"
node_dir="$(dirname "$node_bin")"
actual="$("$node_bin" -p 'process.versions.node.split(".")[0]')"
if [[ "$actual" != "$expected" ]]; then
  echo "test-on-node: 'node' on PATH ($node_bin) is $("$node_bin" --version), not Node $expected" >&2
  exit 1
fi
echo "test-on-node: $node_bin is $("$node_bin" --version)"

# Workspace folders with a test script, in the order package.json lists them: "<dir>\t<script>".
mapfile -t workspaces < <("$node_bin" --input-type=module -e '
  import { readFileSync, readdirSync, existsSync } from "node:fs";
  import { join } from "node:path";
  const root = process.argv[1];
  const { workspaces = [] } = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  for (const pattern of workspaces) {
    const dirs = pattern.endsWith("/*")
      ? readdirSync(join(root, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => join(pattern.slice(0, -2), entry.name))
          .sort()
      : [pattern];
    for (const dir of dirs) {
      const manifest = join(root, dir, "package.json");
      if (!existsSync(manifest)) continue;
      const test = JSON.parse(readFileSync(manifest, "utf8")).scripts?.test;
      if (test) console.log(`${dir}\t${test}`);
    }
  }
' "$root")

if ((${#workspaces[@]} == 0)); then
  echo 'test-on-node: no workspace has a test script' >&2
  exit 1
fi

failed=()
for entry in "${workspaces[@]}"; do
  dir="${entry%%$'\t'*}"
  script="${entry#*$'\t'}"
  echo
  limit=$((deadline - SECONDS))
  if ((limit <= 0)); then
    echo "── $dir: not run, the pass used up its ${total_timeout}s (OMNIBUS_TEST_TIMEOUT)"
    failed+=("$dir")
    continue
  fi
  ((limit > workspace_timeout)) && limit=$workspace_timeout
  echo "── $dir: $script (Node $expected)"
  if (
    cd "$root/$dir"
    export PATH="$node_dir:$root/$dir/node_modules/.bin:$root/node_modules/.bin:$PATH"
    export OMNIBUS_EXPECT_NODE_MAJOR="$expected"
    export NODE_OPTIONS="--import=$root/.ci/node-version.mjs${NODE_OPTIONS:+ $NODE_OPTIONS}"
    timeout --kill-after=15s "$limit" sh -c "$script"
  ); then
    echo "── $dir: passed on Node $expected"
  else
    status=$?
    if ((status == 124 || status == 137)); then
      echo "── $dir: timed out after ${limit}s"
    fi
    echo "── $dir: FAILED on Node $expected"
    failed+=("$dir")
  fi
done

if ((${#failed[@]} > 0)); then
  echo
  echo "test-on-node: failed on Node $expected: ${failed[*]}" >&2
  exit 1
fi

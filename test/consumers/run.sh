#!/usr/bin/env bash
# Installs a packed nestjs-grpc-pool into fresh consumer apps, the way a user would: each app
# (nest11-cjs: Nest 11, CommonJS, TypeScript 5.9; nest12-esm: Nest 12, ES modules,
# TypeScript 6) is copied to a temp folder with the shared sources in app/, gets its Nest
# base from its package.json, then runs the README's own Install lines for its Nest major
# (the tarball standing in for `nestjs-grpc-pool`, which is unpublished). Each app then
# compiles (strict, skipLibCheck false), loads every entry point, boots against a loopback
# gRPC server and calls through getService(), getClient() and /health.
# Usage: test/consumers/run.sh path/to/nestjs-grpc-pool-x.y.z.tgz
# Last line: "consumers: N passed, N failed"; exit status 1 on any failure.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
readme="$here/../../README.md"
tarball=$(realpath "$1")
work=$(mktemp -d)
passed=0
failed=0

# run NAME COMMAND...: one counted check; its output is shown only when it fails.
run() {
  local name=$1
  shift
  if "$@" >"$work/log" 2>&1; then
    passed=$((passed + 1))
    echo "ok   $name"
  else
    failed=$((failed + 1))
    echo "FAIL $name"
    tail -n 40 "$work/log" | sed 's/^/     /'
  fi
}

# The README's Install lines for Nest MAJOR: `npm install …` lines naming `@MAJOR`.
install_lines() {
  awk '/^## Install/ { on = 1; next } /^## / { on = 0 } on && /^npm install /' "$readme" |
    grep -E "@$1( |$)"
}

install_app() {
  local major=$1 lines line
  lines=$(install_lines "$major")
  [ "$(printf '%s\n' "$lines" | grep -c .)" -ge 3 ] || {
    echo "README Install has no npm install lines for Nest $major"
    return 1
  }
  timeout 600 npm install --no-audit --no-fund || return 1
  while IFS= read -r line; do
    line=$(printf '%s' "$line" | sed -E "s#(^| )nestjs-grpc-pool( |\$)#\1$tarball\2#")
    echo "+ $line"
    timeout 600 $line || return 1
  done <<<"$lines"
}

# Every entry point loads in the app's own module system.
load_entries() {
  if [ "$1" = cjs ]; then
    node -e "for (const e of ['', '/health', '/otel']) require('nestjs-grpc-pool' + e)"
  else
    node --input-type=module -e \
      "for (const e of ['', '/health', '/otel']) await import('nestjs-grpc-pool' + e)"
  fi
}

# The app's own checks count one each; a crash before its totals line counts all 3 failed.
boot() {
  local out
  out=$(timeout 120 node dist/main.js 2>&1)
  local code=$?
  printf '%s\n' "$out" | sed 's/^/     /'
  local totals
  totals=$(printf '%s\n' "$out" | tail -n 1 | grep -Eo '[0-9]+ passed, [0-9]+ failed')
  if [ -z "$totals" ]; then
    failed=$((failed + 3))
    echo "FAIL $1 boot (exit $code)"
    return
  fi
  passed=$((passed + $(echo "$totals" | cut -d' ' -f1)))
  failed=$((failed + $(echo "$totals" | cut -d' ' -f3)))
  [ "$code" -eq 0 ] || { failed=$((failed + 1)); echo "FAIL $1 exit code $code"; }
}

for app in nest11-cjs nest12-esm; do
  major=${app:4:2}
  format=${app#*-}
  dir="$work/$app"
  cp -r "$here/$app" "$dir"
  cp "$here"/app/* "$dir/src/"
  cd "$dir" || exit 1
  start=$SECONDS
  run "$app: npm install + README Install lines (Nest $major)" install_app "$major"
  run "$app: tsc (strict, skipLibCheck false)" npm run build
  for extra in tsconfig.*.json; do
    [ -e "$extra" ] && run "$app: tsc -p $extra" npx tsc -p "$extra"
  done
  run "$app: every entry point loads ($format)" load_entries "$format"
  boot "$app"
  echo "     $app took $((SECONDS - start)) s"
done

rm -rf "$work"
echo "consumers: $passed passed, $failed failed"
[ "$failed" -eq 0 ]

#!/usr/bin/env bash
# Runs every test on a fresh machine: installs what the tests need, builds once,
# runs each test project, and prints one closing line "N passed, N failed, N skipped"
# computed from the TRX results. Exits non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")"
root=$(pwd)
results="$root/.tmp/test-results"
rm -rf "$results" && mkdir -p "$results"

need_apt=()
command -v redis-server >/dev/null || need_apt+=(redis-server redis-tools)
# Kafka tests read the topics with kcat as a non-.NET consumer would (the broker itself is librdkafka's mock cluster,
# started by the test fixtures through test/KafkaBroker).
command -v kcat >/dev/null || need_apt+=(kcat)
# deploy/make-secrets.sh (run by test/Deploy.Tests) generates random secrets with openssl.
command -v openssl >/dev/null || need_apt+=(openssl)
# Debian's python3 (not a pyenv shim that may be first on PATH) carries python3-grpcio.
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null || need_apt+=(python3 python3-grpcio python3-grpc-tools)
# The web view's browser tests drive Debian's headless Chromium through Selenium.
{ [ -x /usr/bin/chromium ] && [ -x /usr/bin/chromedriver ]; } || need_apt+=(chromium chromium-driver)
if ((${#need_apt[@]})); then
  echo "installing: ${need_apt[*]}"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}") >"$results/apt.log" 2>&1 \
    || { echo "apt-get install failed, see $results/apt.log"; tail -20 "$results/apt.log"; echo "0 passed, 1 failed"; exit 1; }
fi
# Test fixtures start their own redis-server instances on free loopback ports (they also
# restart them); they find the binary here.
export ORLEANSCONTROL_REDIS_SERVER="$(command -v redis-server)"
export ORLEANSCONTROL_PYTHON=/usr/bin/python3
# Screenshots and other artifacts tests keep.
export ORLEANSCONTROL_ARTIFACTS="$results/artifacts"

echo "building (Release)…"
if ! dotnet build OrleansControl.sln -c Release -nologo -v q >"$results/build.log" 2>&1; then
  grep -E "error" "$results/build.log" | sort -u | head -40
  echo "0 passed, 1 failed"
  exit 1
fi

status=0
for proj in test/*.Tests/*.Tests.csproj; do
  name=$(basename "$proj" .csproj)
  echo "== $name"
  dotnet test "$proj" -c Release --no-build -nologo \
    --logger "trx;LogFileName=$name.trx" --results-directory "$results" \
    --blame-hang-timeout 5m -- RunConfiguration.TreatNoTestsAsError=false 2>&1 | tail -n 15
  rc=${PIPESTATUS[0]}
  if [ "$rc" -ne 0 ]; then
    echo "$name: dotnet test exited $rc"
    status=1
  fi
done

passed=0; failed=0; skipped=0; files=0
for trx in "$results"/*.trx; do
  [ -e "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -1)
  get() { echo "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*' || echo 0; }
  total=$(get total); p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + p)); failed=$((failed + f + e + t + a))
  skipped=$((skipped + total - p - f - e - t - a))
done
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then failed=1; fi  # a crashed test host counts
if [ "$files" -eq 0 ]; then failed=$((failed + 1)); fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" -eq 0 ] && [ "$failed" -eq 0 ]

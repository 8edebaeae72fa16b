#!/usr/bin/env bash
# Starts the brokers and emulators the tests need, if they are installed and not already up, and
# stops only what it started.
#
#   .ci/brokers.sh start    start what is down, wait until each is ready, record its pid
#   .ci/brokers.sh stop     stop only the processes recorded by `start`
#   .ci/brokers.sh status   say what answers on each port
#
# Pids go to .omnibus/<name>.pid (gitignored). A broker that was already up is never recorded, so
# `stop` leaves it alone. Readiness follows /work/shared/INFRA.md: a real AMQP handshake for
# RabbitMQ (`rabbitmq-diagnostics ping` answers before the AMQP port opens), `redis-cli ping`,
# moto's /moto-api/ and the Pub/Sub emulator's `Ok`.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$root/.omnibus"
mkdir -p "$state"

log() { printf '[brokers] %s\n' "$*"; }

# Pid of the process listening on 127.0.0.1:<port>, empty if none.
listener_pid() {
  ss -ltnpH "sport = :$1" 2>/dev/null | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -n 1
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

redis_ready() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

# Sends the AMQP 0-9-1 protocol header and expects the first byte of a frame back (type 1, the
# method frame carrying connection.start): the broker accepts AMQP clients, not only TCP.
amqp_ready() {
  local first
  first="$(
    exec 2>/dev/null
    exec 3<>/dev/tcp/127.0.0.1/5672 || exit 1
    printf 'AMQP\x00\x00\x09\x01' >&3
    timeout 2 head -c 1 <&3 | od -An -tx1 | tr -d ' \n'
  )" || return 1
  [[ "$first" == "01" ]]
}

moto_ready() { curl -sf -o /dev/null http://127.0.0.1:4566/moto-api/; }

pubsub_ready() { [[ "$(curl -sf http://127.0.0.1:8085/ 2>/dev/null)" == Ok* ]]; }

# wait_ready <name> <check> <seconds>
wait_ready() {
  local name="$1" check="$2" deadline=$((SECONDS + $3))
  until "$check"; do
    if ((SECONDS >= deadline)); then
      log "$name: not ready after $3 s"
      return 1
    fi
    sleep 0.25
  done
}

# record <name> <port>: remember the listener's pid so `stop` can end exactly that process.
record() {
  local pid
  pid="$(listener_pid "$2")"
  if [[ -z "$pid" ]]; then
    log "$1: ready, but no pid found for port $2; it will not be stopped by 'stop'"
    return 0
  fi
  echo "$pid" >"$state/$1.pid"
  log "$1: ready on port $2 (pid $pid)"
}

start_redis() {
  if redis_ready; then log 'redis: already up on 6379'; return 0; fi
  if ! command -v redis-server >/dev/null; then log 'redis: not installed, skipped'; return 0; fi
  log 'redis: starting'
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    >/dev/null
  wait_ready redis redis_ready 15
  record redis 6379
}

start_rabbitmq() {
  if amqp_ready; then log 'rabbitmq: already up on 5672'; return 0; fi
  if ! command -v rabbitmq-server >/dev/null; then log 'rabbitmq: not installed, skipped'; return 0; fi
  log 'rabbitmq: starting (3-6 s)'
  rabbitmq-server -detached </dev/null >/dev/null 2>&1
  wait_ready rabbitmq amqp_ready 60
  record rabbitmq 5672
}

start_moto() {
  if moto_ready; then log 'moto: already up on 4566'; return 0; fi
  if ! command -v moto_server >/dev/null; then log 'moto: not installed, skipped'; return 0; fi
  if port_open 4566; then log 'moto: port 4566 is taken by something else, skipped'; return 0; fi
  log 'moto: starting (SQS queues made thread-safe: adapters/sqs/src/testing/moto-thread-safe)'
  PYTHONPATH="$root/adapters/sqs/src/testing/moto-thread-safe${PYTHONPATH:+:$PYTHONPATH}" \
    nohup moto_server -H 127.0.0.1 -p 4566 </dev/null >"$state/moto.log" 2>&1 &
  disown
  wait_ready moto moto_ready 30
  record moto 4566
}

pubsub_script() {
  dpkg -L google-cloud-cli-pubsub-emulator 2>/dev/null | grep -E '/bin/cloud-pubsub-emulator$' |
    head -n 1 || true
}

start_pubsub() {
  if pubsub_ready; then log 'pubsub: already up on 8085'; return 0; fi
  local script
  script="$(pubsub_script)"
  if [[ -z "$script" || ! -x "$script" ]]; then log 'pubsub: not installed, skipped'; return 0; fi
  if port_open 8085; then log 'pubsub: port 8085 is taken by something else, skipped'; return 0; fi
  log 'pubsub: starting the emulator'
  # The script execs java, so the listener's pid is the JVM's: killing it frees the port.
  nohup "$script" --host=127.0.0.1 --port=8085 </dev/null >"$state/pubsub.log" 2>&1 &
  disown
  wait_ready pubsub pubsub_ready 60
  record pubsub 8085
}

stop_one() {
  local name="$1" file="$state/$1.pid" pid
  [[ -f "$file" ]] || return 0
  pid="$(cat "$file")"
  rm -f "$file"
  if ! kill -0 "$pid" 2>/dev/null; then log "$name: pid $pid already gone"; return 0; fi
  log "$name: stopping pid $pid"
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$((SECONDS + 20))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "$name: pid $pid ignored SIGTERM for 20 s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.25
  done
}

status() {
  redis_ready && log 'redis: up' || log 'redis: down'
  amqp_ready && log 'rabbitmq: up' || log 'rabbitmq: down'
  moto_ready && log 'moto: up' || log 'moto: down'
  pubsub_ready && log 'pubsub: up' || log 'pubsub: down'
}

case "${1:-}" in
  start)
    start_redis
    start_rabbitmq
    start_moto
    start_pubsub
    ;;
  stop)
    for name in pubsub moto rabbitmq redis; do stop_one "$name"; done
    ;;
  status) status ;;
  *)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac

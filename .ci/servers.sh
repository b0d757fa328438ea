#!/usr/bin/env bash
# Installs (from Debian packages), starts and stops the RabbitMQ and Redis servers that the bus
# and job-storage tests use, on 127.0.0.1 only.
#   .ci/servers.sh start   installs what is missing, starts both, waits until they accept connections
#   .ci/servers.sh stop    stops those that "start" started, and the Erlang port mapper that
#                          RabbitMQ leaves running
# After "start", the tests find them through LAMBDASTATS_TEST_RABBITMQ and LAMBDASTATS_TEST_REDIS,
# which the caller sets (see .ci/run).
set -uo pipefail

export RABBITMQ_NODENAME=rabbit@localhost
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT=5672
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
redis_port=6379

wait_for_port() {
    local name=$1 port=$2 seconds=$3
    for _ in $(seq "$seconds"); do
        if accepts "$port"; then
            return 0
        fi
        sleep 1
    done
    echo "$name did not accept connections on 127.0.0.1:$port within $seconds s" >&2
    return 1
}

# Servers that "start" started from this clone, so that "stop" leaves alone those that were
# running before, or that another clone started.
started_file=$(cd "$(dirname "$0")" && pwd)/.servers-started

accepts() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start() {
    if ! command -v rabbitmq-server >/dev/null || ! command -v redis-server >/dev/null; then
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y rabbitmq-server redis-server || return 1
    fi

    # Appends, so that a second "start" that finds both running keeps the first one's record.
    if ! accepts "$redis_port"; then
        redis-server --daemonize yes --bind 127.0.0.1 --port "$redis_port" --save "" --appendonly no || return 1
        echo redis >>"$started_file"
    fi

    if ! accepts "$RABBITMQ_NODE_PORT"; then
        rabbitmq-server -detached || return 1
        echo rabbitmq >>"$started_file"
    fi

    wait_for_port Redis "$redis_port" 30 && wait_for_port RabbitMQ "$RABBITMQ_NODE_PORT" 90
}

stop() {
    if grep -qx redis "$started_file" 2>/dev/null; then
        redis-cli -h 127.0.0.1 -p "$redis_port" shutdown nosave >/dev/null 2>&1
    fi

    if grep -qx rabbitmq "$started_file" 2>/dev/null; then
        rabbitmqctl stop >/dev/null 2>&1
        epmd -kill >/dev/null 2>&1
    fi

    rm -f "$started_file"
    return 0
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac

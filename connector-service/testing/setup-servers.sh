#!/usr/bin/env bash
# Installs the servers connector-service's tests start privately: RabbitMQ
# and PostgreSQL from Debian's packages. The tests start their own instances
# on free loopback ports with temporary data directories; this script only
# makes the binaries present and keeps the packaged services from running.
set -euo pipefail

missing=()
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)

if [ ${#missing[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    # The packages' own services are not wanted: the tests start private ones.
    if [ ! -e /usr/sbin/policy-rc.d ]; then
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
        chmod +x /usr/sbin/policy-rc.d
        trap 'rm -f /usr/sbin/policy-rc.d' EXIT
    fi
    apt-get update
    apt-get install -y --no-install-recommends "${missing[@]}"
fi

# Stop a packaged instance the install may have started anyway (it would hold
# the default ports and an epmd); the tests never use it.
if command -v rabbitmqctl >/dev/null 2>&1 && pgrep -u rabbitmq beam.smp >/dev/null 2>&1; then
    rabbitmqctl stop >/dev/null 2>&1 || true
fi
command -v rabbitmq-server >/dev/null 2>&1 || [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ]
ls /usr/lib/postgresql/*/bin/postgres >/dev/null
id postgres >/dev/null
echo "rabbitmq-server and postgresql are installed"

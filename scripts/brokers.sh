#!/usr/bin/env bash
# brokers.sh - install and run the real brokers that postroom's integration
# tests use, on a Debian 12 machine without systemd (run as root).
#
#   brokers.sh install                      apt-get install what is missing
#   brokers.sh start   [rabbitmq|activemq|mosquitto|all]
#   brokers.sh stop    [rabbitmq|activemq|mosquitto|all]
#   brokers.sh restart [rabbitmq|activemq|mosquitto|all]
#   brokers.sh kill    [rabbitmq|activemq|mosquitto|all]   kill -9, as a crash would
#   brokers.sh status  [rabbitmq|activemq|mosquitto|all]   exit 0 only if all up
#   brokers.sh env                          print export lines for the tests
#
# Brokers (all bound to 127.0.0.1, no authentication except RabbitMQ guest/guest):
#   rabbitmq   AMQP 0-9-1 5672 (no STOMP/MQTT plugins; node rabbit@localhost)
#   activemq   OpenWire 61616, STOMP 61613, MQTT 1884 (persistent KahaDB)
#   mosquitto  MQTT 1883 (persistence on)
#
# State (pid files, logs, data) lives in $POSTROOM_BROKER_DIR
# (default /var/tmp/postroom-brokers):
#   rabbitmq/{rabbitmq.pid,rabbitmq.log,mnesia/}  activemq/{activemq.pid,activemq.log,data/}
#   mosquitto/{mosquitto.pid,mosquitto.log,data/}
# Delete that folder (after "stop all") to start from empty brokers.
#
# Every command is idempotent: "start" starts only what is not answering, "stop"
# of a stopped broker is a no-op. Commands on the same broker are serialised
# with flock, so parallel callers are safe.
#
# "kill" sends SIGKILL to every process of the broker (no shutdown hook runs,
# nothing is flushed) and returns once its ports are closed; "start" afterwards
# recovers from the crash (stale pid files and lock files are handled).
#
# Tunables: POSTROOM_BROKER_START_TIMEOUT (s, default 120),
#           POSTROOM_BROKER_STOP_TIMEOUT  (s, default 60),
#           POSTROOM_RABBITMQ_CONF: lines appended to the generated
#           rabbitmq.conf (read at start; for durability experiments).
set -euo pipefail

SELF_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
SELF="$SELF_DIR/$(basename -- "${BASH_SOURCE[0]}")"

STATE_DIR=${POSTROOM_BROKER_DIR:-/var/tmp/postroom-brokers}
START_TIMEOUT=${POSTROOM_BROKER_START_TIMEOUT:-120}
STOP_TIMEOUT=${POSTROOM_BROKER_STOP_TIMEOUT:-60}

HOST=127.0.0.1
RABBIT_PORT=5672
RABBIT_DIST_PORT=25672
RABBIT_NODE=rabbit@localhost
AMQ_OPENWIRE_PORT=61616
AMQ_STOMP_PORT=61613
AMQ_MQTT_PORT=1884
MOSQ_PORT=1883

ALL_BROKERS=(rabbitmq activemq mosquitto)
PACKAGES=(rabbitmq-server activemq libmqtt-client-java mosquitto mosquitto-clients awscli curl)
AMQ_TEMPLATE=/etc/activemq/instances-available/main/activemq.xml
AMQ_HOME=/usr/share/activemq
# fusesource MQTT classes that Debian's activemq-mqtt needs but does not depend on.
AMQ_EXTRA_JARS=(mqtt-client hawtdispatch hawtdispatch-transport hawtbuf)

# Lock file descriptors per broker (closed in every broker process we spawn).
declare -A LOCK_FD=([rabbitmq]=7 [activemq]=8 [mosquitto]=9 [install]=6)

# ---------------------------------------------------------------- helpers

log() { printf 'brokers.sh: %s\n' "$*" >&2; }
die() { printf 'brokers.sh: ERROR: %s\n' "$*" >&2; exit 1; }

now_us() { local t=${EPOCHREALTIME/./}; echo "$((10#$t))"; }
elapsed() { # elapsed START_US -> "12.3s"
  local d=$(( $(now_us) - $1 ))
  printf '%d.%01ds' $((d / 1000000)) $(((d % 1000000) / 100000))
}

usage() {
  sed -n '2,/^set -euo/p' "$SELF" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

need_root() {
  [[ $EUID -eq 0 ]] || die "must run as root (installs packages, runs brokers as their users)"
}

# pid_alive PID [CMDLINE-SUBSTRING]: process exists, is not a zombie (pid 1 in
# containers often does not reap), and its command line contains the substring.
pid_alive() {
  local pid=$1 want=${2:-} stat st cmd
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  st=${stat##*) }
  st=${st%% *}
  [[ $st != Z && $st != X ]] || return 1
  if [[ -n $want ]]; then
    cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ $cmd == *"$want"* ]] || return 1
  fi
  return 0
}

read_pid() { # read_pid FILE -> pid or empty
  local p=""
  [[ -f $1 ]] && read -r p <"$1" 2>/dev/null || true
  [[ $p =~ ^[0-9]+$ ]] && echo "$p" || true
}

# port_open PORT: something listens on TCP PORT. Reads /proc/net/tcp{,6} so
# that it opens no connection (ActiveMQ logs a WARN for every bare connect);
# falls back to connecting to 127.0.0.1:PORT.
port_open() {
  local hex files=() f
  printf -v hex '%04X' "$1"
  for f in /proc/net/tcp /proc/net/tcp6; do [[ -r $f ]] && files+=("$f"); done
  if ((${#files[@]} > 0)); then
    awk -v p=":$hex" 'FNR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 } END { exit !f }' "${files[@]}"
  else
    timeout 3 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null
  fi
}

# listener_pids PORT: pids listening on PORT (needs ss from iproute2; best effort).
listener_pids() {
  command -v ss >/dev/null 2>&1 || return 0
  ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u || true
}

# amqp_ok: a full AMQP 0-9-1 session as guest/guest on vhost "/": protocol
# header, StartOk (PLAIN), TuneOk, Open, Close; succeeds on OpenOk + CloseOk.
# A clean close, so RabbitMQ logs no "client unexpectedly closed" warning.
AMQP_PROBE='exec 3<>"/dev/tcp/$0/$1" || exit 1
printf "AMQP\x00\x00\x09\x01" >&3
printf "\x01\x00\x00\x00\x00\x00\x24\x00\x0a\x00\x0b\x00\x00\x00\x00\x05PLAIN\x00\x00\x00\x0c\x00guest\x00guest\x05en_US\xce" >&3
printf "\x01\x00\x00\x00\x00\x00\x0c\x00\x0a\x00\x1f\x00\x01\x00\x02\x00\x00\x00\x00\xce" >&3
printf "\x01\x00\x00\x00\x00\x00\x08\x00\x0a\x00\x28\x01/\x00\x00\xce" >&3
printf "\x01\x00\x00\x00\x00\x00\x0b\x00\x0a\x00\x32\x00\xc8\x00\x00\x00\x00\x00\xce" >&3
acc=
for i in 1 2 3 4 5 6 7 8; do
  chunk=$(timeout 3 dd bs=65536 count=1 <&3 2>/dev/null | od -An -tx1 -v | tr -d " \n")
  [[ -n $chunk ]] || exit 1
  acc+=$chunk
  [[ $acc == *000a0029* && $acc == *000a0033* ]] && exit 0
done
exit 1'
amqp_ok() {
  port_open "$RABBIT_PORT" || return 1
  timeout 10 bash -c "$AMQP_PROBE" "$HOST" "$RABBIT_PORT" </dev/null >/dev/null 2>&1
}

# stomp_ok: a STOMP CONNECT frame gets a CONNECTED frame.
stomp_ok() {
  local out
  out=$(timeout 5 bash -c "exec 3<>/dev/tcp/$HOST/$AMQ_STOMP_PORT || exit 1
      printf 'CONNECT\naccept-version:1.0,1.1,1.2\nhost:localhost\n\n\\x00' >&3
      IFS= read -r -t 4 line <&3 || exit 1
      printf '%s' \"\$line\"
      printf 'DISCONNECT\n\n\\x00' >&3" 2>/dev/null) || true
  [[ $out == CONNECTED* ]]
}

# mqtt_ok PORT: a QoS 1 publish reaches a QoS 1 subscriber (real round trip;
# ActiveMQ accepts the TCP connection but hangs MQTT if its jars are missing).
mqtt_ok() {
  local port=$1 topic="postroom/brokers-sh/ready/$$-$RANDOM" tmp sub i ok=1
  tmp=$(mktemp)
  timeout 7 mosquitto_sub -h "$HOST" -p "$port" -q 1 -t "$topic" -C 1 -W 5 \
    -i "brokers-sh-sub-$$-$RANDOM" >"$tmp" 2>/dev/null </dev/null &
  sub=$!
  for ((i = 0; i < 15; i++)); do
    sleep 0.2
    pid_alive "$sub" || break
    timeout 5 mosquitto_pub -h "$HOST" -p "$port" -q 1 -t "$topic" -m ok \
      -i "brokers-sh-pub-$$-$RANDOM" >/dev/null 2>&1 </dev/null || true
    sleep 0.1
    pid_alive "$sub" || break
  done
  kill "$sub" 2>/dev/null || true
  wait "$sub" 2>/dev/null || true
  grep -qx ok "$tmp" && ok=0
  rm -f "$tmp"
  return $ok
}

# lock NAME: serialise commands on one broker across processes. A lock is kept
# until this script exits (restart = stop + start holds it throughout).
declare -A LOCK_HELD=()
lock() {
  local name=$1 fd=${LOCK_FD[$1]}
  [[ -z ${LOCK_HELD[$name]:-} ]] || return 0
  mkdir -p "$STATE_DIR"
  eval "exec $fd>>\"\$STATE_DIR/.lock-$name\""
  if ! flock -w 600 "$fd"; then
    die "timed out waiting for the lock $STATE_DIR/.lock-$name"
  fi
  LOCK_HELD[$name]=1
}

# spawn LOGFILE CMD...: start CMD in its own session, detached from our stdio
# (so a Go exec.Cmd waiting on our stdout does not hang) and without our lock
# descriptors. Prints the pid.
spawn() {
  local logfile=$1
  shift
  setsid "$@" </dev/null >>"$logfile" 2>&1 6>&- 7>&- 8>&- 9>&- &
  echo $!
}

log_tail() { # log_tail FILE...
  local f
  for f in "$@"; do
    [[ -s $f ]] || continue
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n 40 "$f" >&2 || true
  done
  printf -- '-----\n' >&2
}

# wait_gone TIMEOUT PID...: wait until none of the pids is alive.
wait_gone() {
  local deadline=$(( $(now_us) + $1 * 1000000 )) p alive
  shift
  while :; do
    alive=0
    for p in "$@"; do pid_alive "$p" && alive=1; done
    ((alive)) || return 0
    (($(now_us) < deadline)) || return 1
    sleep 0.1
  done
}

# wait_ports_closed TIMEOUT PORT...
wait_ports_closed() {
  local deadline=$(( $(now_us) + $1 * 1000000 )) p open
  shift
  while :; do
    open=0
    for p in "$@"; do port_open "$p" && open=1; done
    ((open)) || return 0
    (($(now_us) < deadline)) || return 1
    sleep 0.1
  done
}

# ---------------------------------------------------------------- install

pkg_installed() {
  [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" == "install ok installed" ]]
}

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do pkg_installed "$p" || echo "$p"; done
}

apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -q -y \
    -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef \
    -o Dpkg::Options::=--force-confold "$@"
}

cmd_install() {
  need_root
  lock install
  local t0 missing p policy need_update=0 made_policy=0
  t0=$(now_us)
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} == 0)); then
    log "install: all packages already installed (${PACKAGES[*]})"
    return 0
  fi
  log "install: missing: ${missing[*]}"
  # apt-get update only when the package lists do not know a missing package.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    need_update=1
  else
    for p in "${missing[@]}"; do
      policy=$(apt-cache policy "$p" 2>/dev/null || true)
      [[ $policy == *"Candidate: "[!\(]* ]] || need_update=1
    done
  fi
  # Without systemd the packages' init scripts may still try to start system
  # instances (rabbit@hostname on 5672, mosquitto on 1883) that would collide
  # with ours. Deny service starts during the install unless a policy exists.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\n# temporary, from postroom scripts/brokers.sh install\nexit 101\n' \
      >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  if ((need_update)); then
    log "install: apt-get update"
    apt_get update || { log "install: apt-get update failed, retrying in 5s"; sleep 5; apt_get update; }
  fi
  if ! apt_get install "${missing[@]}"; then
    log "install: apt-get install failed, repairing and retrying once"
    sleep 5
    dpkg --configure -a || true
    apt_get update || true
    apt_get install "${missing[@]}" || die "install: apt-get install ${missing[*]} failed twice (see apt output above)"
  fi
  if ((made_policy)); then
    rm -f /usr/sbin/policy-rc.d
    trap - EXIT
  fi
  mapfile -t missing < <(missing_packages)
  ((${#missing[@]} == 0)) || die "install: still missing after apt-get: ${missing[*]}"
  log "install: done in $(elapsed "$t0")"
}

ensure_installed() {
  local missing
  mapfile -t missing < <(missing_packages)
  if ((${#missing[@]} > 0)); then
    log "packages missing (${missing[*]}); running install first"
    ( cmd_install )
  fi
}

# ---------------------------------------------------------------- rabbitmq

RB_DIR() { echo "$STATE_DIR/rabbitmq"; }

rabbit_env() {
  local d
  d=$(RB_DIR)
  export RABBITMQ_NODENAME=$RABBIT_NODE
  export RABBITMQ_USE_LONGNAME=false
  export RABBITMQ_NODE_IP_ADDRESS=$HOST
  export RABBITMQ_NODE_PORT=$RABBIT_PORT
  export RABBITMQ_DIST_PORT=$RABBIT_DIST_PORT
  export RABBITMQ_MNESIA_BASE=$d/mnesia
  export RABBITMQ_LOG_BASE=$d/log
  export RABBITMQ_LOGS=-
  export RABBITMQ_PID_FILE=$d/rabbitmq.pid
  export RABBITMQ_CONFIG_FILE=$d/rabbitmq.conf
  export RABBITMQ_ADVANCED_CONFIG_FILE=$d/advanced.config
  export RABBITMQ_CONF_ENV_FILE=$d/rabbitmq-env.conf
  export RABBITMQ_ENABLED_PLUGINS_FILE=$d/enabled_plugins
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
  export ERL_EPMD_ADDRESS=$HOST
}

# Erlang short node names need "localhost" to resolve to 127.0.0.1.
ensure_localhost() {
  if ! getent ahostsv4 localhost 2>/dev/null | grep -q '^127\.0\.0\.1'; then
    log "localhost does not resolve to 127.0.0.1; adding it to /etc/hosts"
    printf '127.0.0.1\tlocalhost\n' >>/etc/hosts
  fi
}

rabbit_prepare() {
  local d
  d=$(RB_DIR)
  mkdir -p "$d/mnesia" "$d/log"
  chmod 755 "$STATE_DIR" "$d"
  [[ -f $d/rabbitmq-env.conf ]] || : >"$d/rabbitmq-env.conf"
  # Exactly no plugins: RabbitMQ's STOMP (61613) and MQTT (1883) plugins would
  # collide with ActiveMQ and Mosquitto, and Amazon MQ for RabbitMQ has neither.
  echo '[].' >"$d/enabled_plugins"
  cat >"$d/rabbitmq.conf" <<EOF
# generated by $SELF
listeners.tcp.default = $HOST:$RABBIT_PORT
loopback_users.guest = true
default_user = guest
default_pass = guest
disk_free_limit.absolute = 50MB
EOF
  if [[ -n ${POSTROOM_RABBITMQ_CONF:-} ]]; then
    printf '%s\n' "$POSTROOM_RABBITMQ_CONF" >>"$d/rabbitmq.conf"
  fi
  chown -R rabbitmq:rabbitmq "$d"
  # The server runs as user rabbitmq (Debian wrapper uses su), so it must be
  # able to reach the state folder.
  if ! su rabbitmq -s /bin/sh -c "test -w '$d/mnesia'" 2>/dev/null; then
    die "rabbitmq: user rabbitmq cannot write $d/mnesia; set POSTROOM_BROKER_DIR to a folder under /var/tmp"
  fi
}

rabbit_pids() { # beam pid and launcher pid (whichever are alive)
  local d p
  d=$(RB_DIR)
  p=$(read_pid "$d/rabbitmq.pid")
  [[ -n $p ]] && pid_alive "$p" beam && echo "$p"
  p=$(read_pid "$d/rabbitmq.launcher.pid")
  [[ -n $p ]] && pid_alive "$p" rabbitmq-server && echo "$p"
  return 0
}

rabbit_ready() { amqp_ok; }

rabbit_launch() {
  local d pid
  d=$(RB_DIR)
  ensure_localhost
  rabbit_prepare
  rabbit_env
  rm -f "$d/rabbitmq.pid"
  printf '\n===== %s brokers.sh start =====\n' "$(date -Is)" >>"$d/rabbitmq.log"
  chown rabbitmq:rabbitmq "$d/rabbitmq.log"
  # /usr/sbin/rabbitmq-server (Debian wrapper) su's to rabbitmq with
  # HOME=/var/lib/rabbitmq, so the Erlang cookie is the package's one whatever
  # our HOME is; rabbitmqctl goes through the same wrapper.
  pid=$(cd / && spawn "$d/rabbitmq.log" /usr/sbin/rabbitmq-server)
  echo "$pid" >"$d/rabbitmq.launcher.pid"
}

rabbit_stop() {
  local d pids port_wait=$STOP_TIMEOUT
  d=$(RB_DIR)
  mapfile -t pids < <(rabbit_pids)
  if ((${#pids[@]} == 0)); then
    port_open "$RABBIT_PORT" || return 0
    port_wait=10 # not ours (no pid file): do not wait long for a stranger
  fi
  rabbit_env
  # rabbitmqctl stop works on a fully or half started node as long as the Erlang
  # VM is up; it returns once the node has halted.
  if ! timeout "$STOP_TIMEOUT" /usr/sbin/rabbitmqctl -n "$RABBIT_NODE" -q stop \
      </dev/null >>"$d/rabbitmq.log" 2>&1; then
    log "rabbitmq: rabbitmqctl stop failed; sending SIGTERM"
  fi
  mapfile -t pids < <(rabbit_pids)
  if ((${#pids[@]} > 0)) && ! wait_gone 5 "${pids[@]}"; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    if ! wait_gone "$STOP_TIMEOUT" "${pids[@]}"; then
      log "rabbitmq: still running after SIGTERM; sending SIGKILL"
      kill -KILL "${pids[@]}" 2>/dev/null || true
      wait_gone 10 "${pids[@]}" || die "rabbitmq: cannot stop pids ${pids[*]}"
    fi
  fi
  if ! wait_ports_closed "$port_wait" "$RABBIT_PORT"; then
    die "rabbitmq: port $RABBIT_PORT still open after stop (held by pid(s): $(listener_pids "$RABBIT_PORT" | tr '\n' ' ')- not started by this script?)"
  fi
  rm -f "$d/rabbitmq.pid" "$d/rabbitmq.launcher.pid"
}

# ---------------------------------------------------------------- activemq

AMQ_DIR() { echo "$STATE_DIR/activemq"; }

amq_prepare() {
  local d j
  d=$(AMQ_DIR)
  mkdir -p "$d/conf" "$d/data" "$d/lib" "$d/tmp"
  for j in "${AMQ_EXTRA_JARS[@]}"; do
    [[ -f /usr/share/java/$j.jar ]] || die "activemq: /usr/share/java/$j.jar missing (install libmqtt-client-java)"
    ln -sfn "/usr/share/java/$j.jar" "$d/lib/$j.jar"
  done
  [[ -f $AMQ_TEMPLATE ]] || die "activemq: template $AMQ_TEMPLATE missing (install activemq)"
  # Debian's ActiveMQ logs through slf4j-log4j12 (log4j 1.2), so the
  # log4j2.properties shipped next to the template is never read and the broker
  # would log nothing. Log to the console, which goes to activemq.log.
  cat >"$d/conf/log4j.properties" <<'EOF'
log4j.rootLogger=INFO, console
log4j.logger.org.apache.activemq.spring=WARN
log4j.logger.org.apache.activemq.web.handler=WARN
log4j.logger.org.springframework=WARN
log4j.logger.org.apache.xbean=WARN
log4j.appender.console=org.apache.log4j.ConsoleAppender
log4j.appender.console.layout=org.apache.log4j.PatternLayout
log4j.appender.console.layout.ConversionPattern=%d{ISO8601} | %-5p | %m | %c | %t%n
EOF
  # The Debian template with exactly our three connectors, all on loopback.
  awk -v host="$HOST" -v ow="$AMQ_OPENWIRE_PORT" -v st="$AMQ_STOMP_PORT" -v mq="$AMQ_MQTT_PORT" '
    /<transportConnectors>/ {
      print "        <transportConnectors>"
      print "            <transportConnector name=\"openwire\" uri=\"tcp://" host ":" ow "\"/>"
      print "            <transportConnector name=\"stomp\" uri=\"stomp://" host ":" st "\"/>"
      print "            <transportConnector name=\"mqtt\" uri=\"mqtt://" host ":" mq "\"/>"
      print "        </transportConnectors>"
      skip = 1; next
    }
    skip && /<\/transportConnectors>/ { skip = 0; next }
    # The scheduler serves STOMP sends with AMQ_SCHEDULED_DELAY (delayed nacks).
    /<broker xmlns=/ { sub(/<broker /, "<broker schedulerSupport=\"true\" ") }
    # Store the redelivered flag before each dispatch, so that a message
    # delivered before a crash comes back flagged (redelivered:true).
    /<persistenceAdapter>/ {
      print "        <destinationPolicy><policyMap><policyEntries>"
      print "            <policyEntry queue=\">\" persistJMSRedelivered=\"true\"/>"
      print "            <policyEntry topic=\">\" persistJMSRedelivered=\"true\"/>"
      print "        </policyEntries></policyMap></destinationPolicy>"
    }
    !skip { print }
  ' "$AMQ_TEMPLATE" >"$d/conf/activemq.xml.tmp"
  [[ $(grep -c '<transportConnector ' "$d/conf/activemq.xml.tmp") -eq 3 ]] ||
    die "activemq: could not generate activemq.xml from $AMQ_TEMPLATE"
  grep -q 'schedulerSupport="true"' "$d/conf/activemq.xml.tmp" ||
    die "activemq: could not enable the scheduler in activemq.xml"
  grep -q '<kahaDB ' "$d/conf/activemq.xml.tmp" ||
    die "activemq: template $AMQ_TEMPLATE has no KahaDB persistence adapter"
  mv -f "$d/conf/activemq.xml.tmp" "$d/conf/activemq.xml"
}

amq_pids() {
  local p
  p=$(read_pid "$(AMQ_DIR)/activemq.pid")
  [[ -n $p ]] && pid_alive "$p" activemq.jar && echo "$p"
  return 0
}

amq_ready() {
  port_open "$AMQ_OPENWIRE_PORT" && stomp_ok && mqtt_ok "$AMQ_MQTT_PORT"
}

amq_launch() {
  local d pid
  d=$(AMQ_DIR)
  amq_prepare
  printf '\n===== %s brokers.sh start =====\n' "$(date -Is)" >>"$d/activemq.log"
  pid=$(cd "$d" && spawn "$d/activemq.log" java \
    -Xms256M -Xmx512M -Djava.awt.headless=true \
    -Dactivemq.home="$AMQ_HOME" -Dactivemq.base="$d" \
    -Dactivemq.conf="$d/conf" -Dactivemq.data="$d/data" \
    -Djava.io.tmpdir="$d/tmp" \
    -Dlog4j.configuration="file:$d/conf/log4j.properties" \
    -jar "$AMQ_HOME/bin/activemq.jar" start "xbean:file:$d/conf/activemq.xml")
  echo "$pid" >"$d/activemq.pid"
}

amq_stop() {
  local d pids
  d=$(AMQ_DIR)
  mapfile -t pids < <(amq_pids)
  if ((${#pids[@]} == 0)); then
    if port_open "$AMQ_OPENWIRE_PORT" || port_open "$AMQ_STOMP_PORT" || port_open "$AMQ_MQTT_PORT"; then
      die "activemq: ports are open but $d/activemq.pid names no running broker (held by pid(s): $(listener_pids "$AMQ_OPENWIRE_PORT" | tr '\n' ' ')- not started by this script?)"
    fi
    return 0
  fi
  # SIGTERM runs the broker's shutdown hook (closes connectors, syncs KahaDB).
  kill -TERM "${pids[@]}" 2>/dev/null || true
  if ! wait_gone "$STOP_TIMEOUT" "${pids[@]}"; then
    log "activemq: still running after SIGTERM; sending SIGKILL (KahaDB recovers its journal on start)"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait_gone 10 "${pids[@]}" || die "activemq: cannot stop pid ${pids[*]}"
  fi
  wait_ports_closed "$STOP_TIMEOUT" "$AMQ_OPENWIRE_PORT" "$AMQ_STOMP_PORT" "$AMQ_MQTT_PORT" ||
    die "activemq: ports still open after the broker exited"
  rm -f "$d/activemq.pid"
}

# ---------------------------------------------------------------- mosquitto

MQ_DIR() { echo "$STATE_DIR/mosquitto"; }

mosq_prepare() {
  local d
  d=$(MQ_DIR)
  mkdir -p "$d/data"
  chmod 755 "$STATE_DIR" "$d"
  # mosquitto drops privileges to user mosquitto; it writes its persistence file.
  chown mosquitto "$d/data" 2>/dev/null || true
  cat >"$d/mosquitto.conf" <<EOF
# generated by $SELF
listener $MOSQ_PORT $HOST
allow_anonymous true
persistence true
persistence_location $d/data/
# Mosquitto keeps its store in memory and writes all of it out at a save;
# a crash loses what changed since the last one. Save after every change
# (counted in queued messages, subscriptions and retained messages) so that
# a kill -9 loses as little as this design allows.
autosave_on_changes true
autosave_interval 1
# default is 1000 queued QoS>0 messages per offline client; tests queue more.
max_queued_messages 100000
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
log_timestamp_format %Y-%m-%dT%H:%M:%S
EOF
}

mosq_pids() {
  local p
  p=$(read_pid "$(MQ_DIR)/mosquitto.pid")
  [[ -n $p ]] && pid_alive "$p" mosquitto && echo "$p"
  return 0
}

mosq_ready() { port_open "$MOSQ_PORT" && mqtt_ok "$MOSQ_PORT"; }

mosq_launch() {
  local d pid
  d=$(MQ_DIR)
  mosq_prepare
  printf '\n===== %s brokers.sh start =====\n' "$(date -Is)" >>"$d/mosquitto.log"
  pid=$(cd "$d" && spawn "$d/mosquitto.log" mosquitto -c "$d/mosquitto.conf")
  echo "$pid" >"$d/mosquitto.pid"
}

mosq_stop() {
  local d pids
  d=$(MQ_DIR)
  mapfile -t pids < <(mosq_pids)
  if ((${#pids[@]} == 0)); then
    if port_open "$MOSQ_PORT"; then
      die "mosquitto: port $MOSQ_PORT is open but $d/mosquitto.pid names no running broker (held by pid(s): $(listener_pids "$MOSQ_PORT" | tr '\n' ' ')- not started by this script?)"
    fi
    return 0
  fi
  kill -TERM "${pids[@]}" 2>/dev/null || true # saves persistence on exit
  if ! wait_gone "$STOP_TIMEOUT" "${pids[@]}"; then
    log "mosquitto: still running after SIGTERM; sending SIGKILL"
    kill -KILL "${pids[@]}" 2>/dev/null || true
    wait_gone 10 "${pids[@]}" || die "mosquitto: cannot stop pid ${pids[*]}"
  fi
  wait_ports_closed "$STOP_TIMEOUT" "$MOSQ_PORT" || die "mosquitto: port $MOSQ_PORT still open after the broker exited"
  rm -f "$d/mosquitto.pid"
}

# ---------------------------------------------------------------- dispatch

# b_* NAME: per-broker dispatch.
b_ready() {
  case $1 in
  rabbitmq) rabbit_ready ;; activemq) amq_ready ;; mosquitto) mosq_ready ;;
  esac
}
b_pids() {
  case $1 in
  rabbitmq) rabbit_pids ;; activemq) amq_pids ;; mosquitto) mosq_pids ;;
  esac
}
b_launch() {
  case $1 in
  rabbitmq) rabbit_launch ;; activemq) amq_launch ;; mosquitto) mosq_launch ;;
  esac
}
b_stop() {
  case $1 in
  rabbitmq) rabbit_stop ;; activemq) amq_stop ;; mosquitto) mosq_stop ;;
  esac
}
b_ports() {
  case $1 in
  rabbitmq) echo "$RABBIT_PORT" ;;
  activemq) echo "$AMQ_OPENWIRE_PORT $AMQ_STOMP_PORT $AMQ_MQTT_PORT" ;;
  mosquitto) echo "$MOSQ_PORT" ;;
  esac
}
b_logs() {
  case $1 in
  rabbitmq) echo "$(RB_DIR)/rabbitmq.log" ;;
  activemq) echo "$(AMQ_DIR)/activemq.log" ;;
  mosquitto) echo "$(MQ_DIR)/mosquitto.log" ;;
  esac
}
b_describe() {
  case $1 in
  rabbitmq) echo "AMQP amqp://guest:guest@$HOST:$RABBIT_PORT/ (node $RABBIT_NODE)" ;;
  activemq) echo "STOMP $HOST:$AMQ_STOMP_PORT, MQTT $HOST:$AMQ_MQTT_PORT, OpenWire $HOST:$AMQ_OPENWIRE_PORT" ;;
  mosquitto) echo "MQTT $HOST:$MOSQ_PORT" ;;
  esac
}

# any_port_open NAME: at least one of the broker's ports accepts connections.
any_port_open() {
  local p
  for p in $(b_ports "$1"); do port_open "$p" && return 0; done
  return 1
}

# names_of [ARG]: set the global NAMES to the brokers ARG (default all) means.
names_of() {
  local a=${1:-all}
  case $a in
  all) NAMES=("${ALL_BROKERS[@]}") ;;
  rabbitmq | rabbit) NAMES=(rabbitmq) ;;
  activemq | amq) NAMES=(activemq) ;;
  mosquitto | mosq) NAMES=(mosquitto) ;;
  *) die "unknown broker '$a' (want rabbitmq, activemq, mosquitto or all)" ;;
  esac
}

cmd_start() {
  need_root
  local names name pids t0 deadline failed=() launched=() fresh
  names_of "${1:-}"
  names=("${NAMES[@]}")
  mkdir -p "$STATE_DIR"
  chmod 755 "$STATE_DIR"
  for name in "${names[@]}"; do lock "$name"; done
  # Fast path: everything already answers.
  fresh=()
  for name in "${names[@]}"; do
    if b_ready "$name"; then
      log "$name: already running ($(b_describe "$name"))"
    else
      fresh+=("$name")
    fi
  done
  ((${#fresh[@]} > 0)) || return 0
  ensure_installed
  t0=$(now_us)
  for name in "${fresh[@]}"; do
    mapfile -t pids < <(b_pids "$name")
    if ((${#pids[@]} > 0)); then
      log "$name: process ${pids[*]} is running but not answering yet; waiting for it"
    elif any_port_open "$name"; then
      # Something else holds a port (e.g. RabbitMQ's MQTT plugin on 1883, or
      # an instance run from another POSTROOM_BROKER_DIR) and does not pass the
      # health check: refuse rather than wait for it.
      log "$name: a port of $(b_ports "$name") is taken by a process this script did not start (listening pid(s): $(for p in $(b_ports "$name"); do listener_pids "$p"; done | sort -u | tr '\n' ' ')) and it does not answer as $name; stop it first"
      failed+=("$name")
    else
      b_launch "$name"
      launched+=("$name")
      log "$name: launched (pid $(b_pids "$name" | head -n1)); waiting for $(b_ports "$name")"
    fi
  done
  deadline=$((t0 + START_TIMEOUT * 1000000))
  for name in "${fresh[@]}"; do
    [[ " ${failed[*]} " != *" $name "* ]] || continue
    while ! b_ready "$name"; do
      mapfile -t pids < <(b_pids "$name")
      if ((${#pids[@]} == 0)) && [[ " ${launched[*]} " == *" $name "* ]]; then
        log "$name: broker process exited during start-up"
        log_tail $(b_logs "$name")
        failed+=("$name")
        continue 2
      fi
      if (($(now_us) > deadline)); then
        log "$name: not ready after ${START_TIMEOUT}s (ports $(b_ports "$name"))"
        log_tail $(b_logs "$name")
        failed+=("$name")
        continue 2
      fi
      sleep 0.5
    done
    log "$name: ready after $(elapsed "$t0") ($(b_describe "$name"))"
  done
  ((${#failed[@]} == 0)) || die "start failed: ${failed[*]} (state and logs in $STATE_DIR)"
}

cmd_stop() {
  need_root
  local names name t
  names_of "${1:-}"
  names=("${NAMES[@]}")
  for name in "${names[@]}"; do
    lock "$name"
    t=$(now_us)
    if [[ -z $(b_pids "$name") ]] && ! any_port_open "$name"; then
      log "$name: not running"
      continue
    fi
    b_stop "$name"
    log "$name: stopped in $(elapsed "$t")"
  done
}

cmd_restart() {
  [[ $# -ge 1 ]] || die "restart needs a broker name (rabbitmq, activemq, mosquitto or all)"
  cmd_stop "$1"
  cmd_start "$1"
}

# kill_group PID...: SIGKILL each pid and every process of its process group
# (spawn starts each broker in a session of its own, so the group is the
# broker's launcher and what it started, never this script's).
kill_group() {
  local p pg own
  own=$(ps -o pgid= -p $$ | tr -d ' ')
  for p in "$@"; do
    pg=$(ps -o pgid= -p "$p" 2>/dev/null | tr -d ' ') || true
    if [[ $pg =~ ^[0-9]+$ && $pg -gt 1 && $pg != "$own" ]]; then
      kill -KILL -- "-$pg" 2>/dev/null || true
    fi
    kill -KILL "$p" 2>/dev/null || true
  done
}

cmd_kill() {
  need_root
  local names name pids t
  names_of "${1:-}"
  names=("${NAMES[@]}")
  for name in "${names[@]}"; do
    lock "$name"
    t=$(now_us)
    mapfile -t pids < <(b_pids "$name")
    if ((${#pids[@]} == 0)); then
      any_port_open "$name" && die "$name: ports $(b_ports "$name") are open but no broker this script started is running"
      log "$name: not running"
      continue
    fi
    kill_group "${pids[@]}"
    wait_gone 10 "${pids[@]}" || die "$name: pid(s) ${pids[*]} still alive after SIGKILL"
    # shellcheck disable=SC2046
    wait_ports_closed 10 $(b_ports "$name") || die "$name: ports $(b_ports "$name") still open after SIGKILL"
    log "$name: killed (SIGKILL to ${pids[*]} and their process groups) in $(elapsed "$t")"
  done
}

cmd_status() {
  local names name pids rc=0
  names_of "${1:-}"
  names=("${NAMES[@]}")
  for name in "${names[@]}"; do
    pids=$(b_pids "$name" | tr '\n' ' ')
    if b_ready "$name"; then
      printf '%-10s up    pid %-14s %s\n' "$name" "${pids:-?}" "$(b_describe "$name")"
    elif [[ -n $pids ]]; then
      printf '%-10s starting/unhealthy  pid %s (ports %s)\n' "$name" "$pids" "$(b_ports "$name")"
      rc=3
    elif any_port_open "$name"; then
      printf '%-10s unhealthy (a port of %s is held by another process)\n' "$name" "$(b_ports "$name")"
      rc=3
    else
      printf '%-10s down\n' "$name"
      rc=3
    fi
  done
  return $rc
}

cmd_env() {
  cat <<EOF
export POSTROOM_AMQP_URL=amqp://guest:guest@$HOST:$RABBIT_PORT/
export POSTROOM_STOMP_URL=stomp://$HOST:$AMQ_STOMP_PORT
export POSTROOM_MQTT_URL=mqtt://$HOST:$AMQ_MQTT_PORT
export POSTROOM_MOSQUITTO_URL=mqtt://$HOST:$MOSQ_PORT
export POSTROOM_STOMP_SCHEDULER=1
export POSTROOM_BROKER_SCRIPT=$SELF
EOF
}

main() {
  local cmd=${1:-}
  [[ -n $cmd ]] || usage
  shift
  case $cmd in
  install) cmd_install ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  restart) cmd_restart "$@" ;;
  kill) cmd_kill "$@" ;;
  status) cmd_status "$@" ;;
  env) cmd_env ;;
  -h | --help | help) usage ;;
  *) log "unknown command '$cmd'"; usage ;;
  esac
}

main "$@"

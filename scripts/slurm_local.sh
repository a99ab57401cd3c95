#!/usr/bin/env bash
# A real single-node Slurm on this machine, for the tests marked `slurm` (no systemd needed).
#
#   bash scripts/slurm_local.sh start    # install Debian's Slurm once (as root), then start it
#   bash scripts/slurm_local.sh status   # exit 0 if it is running
#   bash scripts/slurm_local.sh stop     # end the daemons by their pid files
#
# Everything listens on localhost: munged; MariaDB on 127.0.0.1:$DB_PORT with its own data
# folder; slurmdbd (sacct needs it); slurmctld; slurmd with two fake GPUs (character devices,
# as slurmd refuses regular files). State, logs and pid files live in $STATE. The Slurm
# configuration goes to /etc/slurm (where the client commands read it); a configuration this
# script did not write is never overwritten.
set -euo pipefail

STATE=${CL_TEACH_SLURM_STATE:-/var/lib/cl_teach-slurm}
DB_PORT=${CL_TEACH_SLURM_DB_PORT:-3407}
MARK="# written by cl_teach scripts/slurm_local.sh"
PACKAGES=(slurmctld slurmd slurm-client munge mariadb-server slurmdbd)
DAEMONS=(slurmd slurmctld slurmdbd mariadbd munged)  # stop order

log() { echo "slurm_local: $*"; }

pidfile() {  # munged and mariadbd run as their own users, in folders of their own
    case $1 in
        munged) echo "$STATE/munge/munged.pid" ;;
        mariadbd) echo "$STATE/mysql/mariadbd.pid" ;;
        *) echo "$STATE/run/$1.pid" ;;
    esac
}

alive() {  # alive NAME: its pid file names a running process
    local pid
    pid=$(cat "$(pidfile "$1")" 2>/dev/null) || return 1
    [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null
}

wait_for() {  # wait_for SECONDS WHAT COMMAND...: retry COMMAND until it succeeds
    local limit=$1 what=$2
    shift 2
    for ((i = 0; i < limit * 10; i++)); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    log "$what did not come up within ${limit}s; logs in $STATE/log"
    exit 1
}

install() {
    if command -v slurmctld >/dev/null && command -v slurmd >/dev/null \
        && command -v slurmdbd >/dev/null && command -v sbatch >/dev/null \
        && command -v munged >/dev/null && command -v mariadbd >/dev/null; then
        return
    fi
    if [[ $(id -u) != 0 ]]; then
        log "Slurm is not installed; run this script as root to install ${PACKAGES[*]}"
        exit 1
    fi
    log "installing ${PACKAGES[*]} ..."
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${PACKAGES[@]}" >/dev/null
}

configure() {
    mkdir -p "$STATE"/{run,log,ctld,spool,db,gpu,munge,mysql} /etc/slurm
    for conf in /etc/slurm/slurm.conf /etc/slurm/slurmdbd.conf /etc/slurm/gres.conf; do
        if [[ -e $conf ]] && ! grep -qF "$MARK" "$conf"; then
            log "$conf exists and was not written by this script; not touching it"
            exit 1
        fi
    done
    local host cpus
    host=$(hostname -s)
    cpus=$(nproc)
    for k in 0 1; do  # fake GPUs: /dev/null's device numbers
        [[ -c $STATE/gpu/gpu$k ]] || mknod "$STATE/gpu/gpu$k" c 1 3
    done
    cat >/etc/slurm/slurm.conf <<EOF
$MARK
ClusterName=cl_teach
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
GresTypes=gpu
MpiDefault=none
ReturnToService=2
StateSaveLocation=$STATE/ctld
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/run/slurmctld.pid
SlurmdPidFile=$STATE/run/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
AccountingStorageType=accounting_storage/slurmdbd
AccountingStorageHost=127.0.0.1
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus Gres=gpu:2 State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
    cat >/etc/slurm/gres.conf <<EOF
$MARK
Name=gpu File=$STATE/gpu/gpu0
Name=gpu File=$STATE/gpu/gpu1
EOF
    cat >/etc/slurm/slurmdbd.conf <<EOF
$MARK
AuthType=auth/munge
DbdHost=localhost
DbdAddr=127.0.0.1
SlurmUser=root
PidFile=$STATE/run/slurmdbd.pid
LogFile=$STATE/log/slurmdbd.log
StorageType=accounting_storage/mysql
StorageHost=127.0.0.1
StoragePort=$DB_PORT
StorageUser=slurm
StoragePass=slurm
StorageLoc=slurm_acct_db
EOF
    chmod 600 /etc/slurm/slurmdbd.conf
}

start_munge() {
    alive munged && return
    mkdir -p /run/munge
    chown munge:munge /run/munge "$STATE/munge"
    [[ -s /etc/munge/munge.key ]] || runuser -u munge -- mungekey --create
    runuser -u munge -- munged --pid-file="$(pidfile munged)" --log-file="$STATE/munge/munged.log"
    wait_for 10 munged munge -n
}

start_mariadb() {
    alive mariadbd && return
    if [[ ! -d $STATE/db/mysql ]]; then
        mariadb-install-db --user=mysql --datadir="$STATE/db" --auth-root-authentication-method=socket \
            >"$STATE/mysql/install.log" 2>&1
    fi
    chown -R mysql:mysql "$STATE/db" "$STATE/mysql"
    mariadbd --user=mysql --datadir="$STATE/db" --bind-address=127.0.0.1 --port="$DB_PORT" \
        --socket="$STATE/mysql/mariadb.sock" --pid-file="$(pidfile mariadbd)" \
        --log-error="$STATE/mysql/mariadb.log" --skip-name-resolve >/dev/null 2>&1 &
    wait_for 60 MariaDB mariadb --socket="$STATE/mysql/mariadb.sock" -e "SELECT 1"
    mariadb --socket="$STATE/mysql/mariadb.sock" -e "
        CREATE USER IF NOT EXISTS 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurm';
        CREATE DATABASE IF NOT EXISTS slurm_acct_db;
        GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"
}

start_slurm() {
    alive slurmdbd || slurmdbd
    wait_for 30 slurmdbd sacctmgr -n show cluster
    alive slurmctld || slurmctld
    alive slurmd || slurmd
    wait_for 30 "the node" bash -c "sinfo -h -o %T | grep -qE '^(idle|mixed|allocated)'"
}

start() {
    install
    configure
    start_munge
    start_mariadb
    start_slurm
    log "running: $(sinfo -h -o '%P %D %T %G') (stop: bash scripts/slurm_local.sh stop)"
}

stop() {
    for name in "${DAEMONS[@]}"; do
        if alive "$name"; then
            kill "$(cat "$(pidfile "$name")")"
        fi
    done
    for name in "${DAEMONS[@]}"; do
        for ((i = 0; i < 100; i++)); do
            alive "$name" || break
            sleep 0.1
        done
        alive "$name" && log "$name did not stop"
    done
    log "stopped"
}

status() {
    local down=0
    for name in "${DAEMONS[@]}"; do
        alive "$name" || down=1
    done
    return $down
}

case ${1:-} in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *)
        echo "usage: bash scripts/slurm_local.sh start|status|stop" >&2
        exit 2
        ;;
esac

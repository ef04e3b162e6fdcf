#!/usr/bin/env bash
# A one-node Slurm cluster on this machine for tests/slurm.rs (Debian's slurmctld, slurmd,
# slurm-client and munge; needs root). `start DIR` installs them if missing, writes
# DIR/slurm.conf, starts munged, slurmctld and slurmd, waits for the node, and prints the
# environment the test needs (eval it); `stop DIR` stops the daemons it started.
set -euo pipefail
cmd=${1:?start|stop}
dir=$(mkdir -p "${2:?DIR}" && cd "$2" && pwd)
case "$cmd" in
start)
  if ! command -v slurmctld >/dev/null || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends slurmctld slurmd slurm-client munge >&2
  fi
  [ -s /etc/munge/munge.key ] || { mkdir -p /etc/munge; dd if=/dev/urandom of=/etc/munge/munge.key bs=128 count=1 2>/dev/null; chmod 400 /etc/munge/munge.key; }
  mkdir -p "$dir/state" "$dir/spool" "$dir/log" /run/munge
  h=$(hostname)
  cpus=$(nproc)
  cat > "$dir/slurm.conf" <<CONF
ClusterName=datamill-test
SlurmctldHost=$h
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
NodeName=$h CPUs=$cpus State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
CONF
  export SLURM_CONF="$dir/slurm.conf"
  pgrep -x munged >/dev/null || munged --force >&2
  setsid slurmctld -D -f "$SLURM_CONF" > "$dir/log/slurmctld.out" 2>&1 < /dev/null & echo $! > "$dir/slurmctld.started"
  setsid slurmd -D -f "$SLURM_CONF" > "$dir/log/slurmd.out" 2>&1 < /dev/null & echo $! > "$dir/slurmd.started"
  for _ in $(seq 60); do
    sinfo -h -o %t 2>/dev/null | grep -q idle && { echo "export SLURM_CONF=$SLURM_CONF DATAMILL_SLURM=1"; exit 0; }
    sleep 1
  done
  echo "the Slurm node did not come up: see $dir/log" >&2
  exit 1
  ;;
stop)
  for d in slurmd slurmctld; do
    [ -f "$dir/$d.started" ] && kill "$(cat "$dir/$d.started")" 2>/dev/null || true
    rm -f "$dir/$d.started"
  done
  ;;
esac

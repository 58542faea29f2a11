"""The process backend's confinement, from util-linux and coreutils only (no bubblewrap).

``confine_command`` is the command line that starts the runner:

    setpriv --pdeathsig KILL -- unshare --mount --net --pid --ipc --uts --cgroup
        --fork --kill-child --propagation private -- /bin/sh -c CONFINE ...

``unshare`` makes the namespaces and forks pid 1 of the new pid namespace: the CONFINE
script below, run as root inside them. It builds a new root on a tmpfs (read-only /usr and
/etc, the merged-usr symlinks, a minimal /dev, a fresh /proc, bounded tmpfs mounts for the
tests, a bounded /dev/shm, the runner bound read-only), writes the IPC namespace's limits,
makes /proc/sys read-only, pivots into the new root and detaches the old one, so nothing
of the host's file system stays reachable. Then it drops to root holding only CAP_SETUID
and CAP_SETGID with no_new_privs (``setpriv``) and becomes a small init (``INIT``) that
starts the runner under ``env -i`` as its child and waits for it.

Death: the host starts ``setpriv --pdeathsig KILL`` from a thread that lives as long as the
runner, so ``unshare`` gets SIGKILL when that thread or this process dies (even by
SIGKILL); ``--kill-child`` then SIGKILLs pid 1, and the kernel kills the rest of the
namespace with it.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Mapping

from sstar.sandbox.image import RUNNER_IN_IMAGE
from sstar.sandbox.protocol import IO_MOUNT, TMP_MOUNT, Sizing, ipc_sysctls

# Where the confinement looks for its tools: fixed, not the caller's PATH (sbin included:
# pivot_root lives there, and a non-root PATH often lacks it).
TOOL_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# util-linux (unshare, setpriv, pivot_root), mount (mount, umount), coreutils (the rest).
TOOLS = ("unshare", "setpriv", "mount", "umount", "pivot_root", "env", "mkdir", "ln", "readlink", "rmdir")
MERGED_USR = ("bin", "sbin", "lib", "lib32", "lib64", "libx32")
DEV_NODES = ("null", "zero", "full", "random", "urandom", "tty")  # as bubblewrap's --dev
# /proc entries a root process without capabilities could still write to: read-only
# (Docker's list; the ones this kernel lacks are skipped).
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs")
ROOT_AT = "/tmp"  # where the new root is built, in the new mount namespace only
NAMESPACES = ("--mount", "--net", "--pid", "--ipc", "--uts", "--cgroup")

CONFINE = r"""
set -eu
PATH=$TOOL_PATH
runner=$1 tmp_mount=$2 tmp_mb=$3 io_mount=$4 io_mb=$5 shm_mb=$6 runner_in=$7 sysctls=$8
shift 8
# Open the runner before any mount can hide its path; it is bound from this descriptor.
exec 3<"$runner"

mount -t tmpfs -o size=1m,mode=755,nosuid,nodev sstar-root "$ROOT_AT"
cd "$ROOT_AT"
mkdir -p usr etc dev proc ".$tmp_mount" ".$io_mount" ".${runner_in%/*}"
for dir in usr etc; do
    mount --bind -o ro,nosuid,nodev "/$dir" "$dir"
done
for top in $MERGED_USR; do
    if [ -L "/$top" ]; then
        ln -s "$(readlink "/$top")" "$top"
    elif [ -d "/$top" ]; then
        mkdir "$top"
        mount --bind -o ro,nosuid,nodev "/$top" "$top"
    fi
done

mount -t tmpfs -o size=64k,mode=755,nosuid,noexec sstar-dev dev
mkdir dev/pts dev/shm dev/mqueue
for node in $DEV_NODES; do
    [ -e "/dev/$node" ] || continue
    : >"dev/$node"
    mount --bind "/dev/$node" "dev/$node"
done
ln -s /proc/self/fd dev/fd
ln -s /proc/self/fd/0 dev/stdin
ln -s /proc/self/fd/1 dev/stdout
ln -s /proc/self/fd/2 dev/stderr
ln -s pts/ptmx dev/ptmx
# Pseudo-terminals and POSIX message queues of the new namespaces, where the kernel has them.
mount -t devpts -o newinstance,ptmxmode=0666,mode=620,nosuid,noexec devpts dev/pts 2>/dev/null || rmdir dev/pts
mount -t tmpfs -o "size=${shm_mb}m,mode=1777,nosuid,nodev,noexec" sstar-shm dev/shm
mount -t mqueue -o nosuid,nodev,noexec mqueue dev/mqueue 2>/dev/null || rmdir dev/mqueue

mount -t proc -o nosuid,nodev,noexec proc proc
mount -t tmpfs -o "size=${tmp_mb}m,mode=755,nosuid,nodev,noexec" sstar-tmp ".$tmp_mount"
mount -t tmpfs -o "size=${io_mb}m,mode=755,nosuid,nodev,noexec" sstar-io ".$io_mount"
: >".$runner_in"
mount --no-canonicalize --bind -o ro,nosuid,nodev /proc/self/fd/3 ".$runner_in"
exec 3<&-

# The IPC namespace's own limits (SysV shared memory, queues, semaphores; POSIX queues).
while [ "$sysctls" -gt 0 ]; do
    printf '%s\n' "${1#*=}" > "proc/sys/${1%%=*}"
    shift
    sysctls=$((sysctls - 1))
done
for entry in $PROC_READ_ONLY; do
    if [ -e "proc/$entry" ]; then
        mount --bind -o ro,nosuid,nodev,noexec "proc/$entry" "proc/$entry"
    fi
done

# Into the new root; the old one (the host's whole tree) is detached, not just hidden.
mkdir .old-root
pivot_root . .old-root
cd /
umount -l /.old-root
rmdir /.old-root
mount -o remount,ro,nosuid,nodev /
cd "$tmp_mount"
exec "$@"
"""
# Pid 1 once the caps are dropped: it runs the runner as its child and waits. Not exec:
# the runner changes its effective uid, which clears a parent-death signal, and pid 1's
# death (SIGKILL from unshare's --kill-child) is what must end the namespace.
INIT = 'status=0; "$@" || status=$?; exit "$status"'
# What identifies this confinement (in the sandbox's identity, hence in cache keys).
CONFINEMENT = "\n".join([CONFINE, INIT, TOOL_PATH, ROOT_AT, *NAMESPACES, *MERGED_USR, *DEV_NODES, *PROC_READ_ONLY])


def confine_command(size: Sizing, runner: str, python: str, env: Mapping[str, str]) -> list[str]:
    """The command line that starts ``python -I RUNNER_IN_IMAGE`` confined (module doc)."""
    cmd = ["setpriv", "--pdeathsig", "KILL", "--", "unshare", *namespaces()]
    cmd += ["--fork", "--kill-child", "--propagation", "private", "--"]
    script = (
        CONFINE.replace("$TOOL_PATH", TOOL_PATH)
        .replace("$ROOT_AT", ROOT_AT)
        .replace("$MERGED_USR", " ".join(MERGED_USR))
        .replace("$DEV_NODES", " ".join(DEV_NODES))
        .replace("$PROC_READ_ONLY", " ".join(PROC_READ_ONLY))
    )
    sysctls = [f"{key.replace('.', '/')}={value}" for key, value in ipc_sysctls(size).items()]
    cmd += ["/bin/sh", "-c", script, "sstar-confine", runner]
    cmd += [TMP_MOUNT, str(size.tmp_mb), IO_MOUNT, str(size.io_mb), str(size.shm_mb), RUNNER_IN_IMAGE]
    cmd += [str(len(sysctls)), *sysctls]
    # pid 1 and the runner: root with only CAP_SETUID/CAP_SETGID (the runner switches tests
    # to slot uids), nothing to regain through exec, and only the environment given.
    cmd += ["setpriv", "--no-new-privs", "--bounding-set=-all,+setuid,+setgid", "--inh-caps=-all", "--clear-groups", "--"]
    cmd += ["/bin/sh", "-c", INIT, "sstar-init"]
    cmd += ["env", "-i", *(f"{key}={value}" for key, value in env.items())]
    cmd += [python, "-I", RUNNER_IN_IMAGE]
    return cmd


def namespaces() -> list[str]:
    """unshare's namespace options; a cgroup namespace only where the kernel has them
    (as bubblewrap's --unshare-cgroup-try: it hides the host's cgroup paths, no more)."""
    wanted = list(NAMESPACES)
    if not os.path.exists("/proc/self/ns/cgroup"):
        wanted.remove("--cgroup")
    return wanted


def missing_tools() -> list[str]:
    """The tools of ``TOOLS`` not found on ``TOOL_PATH``."""
    dirs = TOOL_PATH.split(":")
    return [tool for tool in TOOLS if not any(os.access(Path(d, tool), os.X_OK) for d in dirs)]


def namespace_problem() -> str | None:
    """Why ``unshare`` cannot make this backend's namespaces here (a container without
    CAP_SYS_ADMIN, namespaces disabled...), or None when it can."""
    probe = ["unshare", *namespaces(), "--fork", "--propagation", "private", "--", "true"]
    try:
        done = subprocess.run(probe, capture_output=True, env={"PATH": TOOL_PATH}, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as err:
        return str(err)
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        return lines[-1] if lines else f"exit status {done.returncode}"
    return None

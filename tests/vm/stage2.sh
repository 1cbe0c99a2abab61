#!/bin/sh
# The guest's second stage, PID 1 in the host's root (read-only 9p under a tmpfs overlay):
# a pure cgroup v2 host, every controller enabled at the top as systemd does, then the
# command the host wrote to /.vm/out/command; its exit status goes to /.vm/out/status.
bb=/.vm/busybox
$bb mount -t proc proc /proc
$bb mount -t sysfs sysfs /sys
$bb mount -t cgroup2 -o nsdelegate cgroup2 /sys/fs/cgroup
$bb mount -t devtmpfs devtmpfs /dev
$bb mkdir -p /dev/pts /dev/shm
$bb mount -t devpts -o newinstance,ptmxmode=0666 devpts /dev/pts
$bb mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
$bb mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /tmp
$bb mount -t tmpfs -o mode=755,nosuid,nodev tmpfs /run
$bb hostname coderunner-vm
$bb ip link set lo up
for c in $($bb cat /sys/fs/cgroup/cgroup.controllers); do
        echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "stage2: cannot enable $c"
done
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8
export CODERUNNER_VM_OUT=/.vm/out
cd /
/bin/sh -c "$($bb cat /.vm/out/command)" < /dev/null
echo $? > /.vm/out/status.tmp && $bb mv /.vm/out/status.tmp /.vm/out/status
$bb sync
$bb umount /.vm/out
$bb poweroff -f

#!/bin/sh
# The guest's first stage (tests/vm/vm.py builds it into the initramfs): load the modules,
# mount the host's root read-only over 9p under a tmpfs overlay, and switch_root into it.
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
while read -r m; do
        insmod "/modules/$m" || echo "init: insmod $m failed"
done < /modules/order
fail() {
        echo "init: $*"
        poweroff -f
}
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /lower || fail "no 9p root"
mount -t tmpfs -o mode=755 tmpfs /upper || fail "no tmpfs"
mkdir /upper/data /upper/work
mount -t overlay -o lowerdir=/lower,upperdir=/upper/data,workdir=/upper/work overlay /newroot || fail "no overlay"
mkdir -p /newroot/.vm/out
cp /bin/busybox /stage2.sh /newroot/.vm/
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 out /newroot/.vm/out || fail "no out share"
umount /proc /sys /dev
exec switch_root /newroot /.vm/busybox sh /.vm/stage2.sh

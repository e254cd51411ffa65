#!/bin/bash
# vm-image.sh - build (once) the boot image for gorb's real-kernel tests.
#
# The development/CI machines run a kernel without IPVS, so kernel tests boot a
# stock Debian kernel (IPVS built as modules) under qemu with a small busybox
# initramfs; see test/kernel/README.md and test/kernel/vm.ts.
#
# What it does (as root, on Debian bookworm, network to Debian's archive):
#   - apt-get install --no-install-recommends qemu-system-x86 cpio   (if missing)
#   - apt-get download the kernel linux-image-amd64 points to, plus the guest
#     userland (busybox-static, dash, ipvsadm + libnl + libpopt, iproute2 +
#     libs) and kmod (run on the host only, for depmod/modprobe --show-depends)
#   - dpkg -x them into the cache (nothing goes into the host's /boot or
#     /lib/modules), run depmod -b on the unpacked tree
#   - extract the uncompressed ELF vmlinux from the bzImage (qemu boots it via
#     its PVH entry: ~2x faster than the bzImage under TCG)
#   - build initramfs.cpio with /init, busybox, dash, ipvsadm, ip, the host's
#     glibc and the IPVS / conntrack / tunnel / dummy / veth / virtio / 9p
#     modules. /init's protocol with vm.ts is described in write_init below.
#
# Everything lives in ${GORB_VM_CACHE:-$HOME/.cache/gorb-vm}:
#   current/            symlink to images/<build>/, switched atomically, so
#                       VMs starting during a rebuild see a consistent pair:
#     kernel            the image qemu boots (ELF vmlinux, or the bzImage if
#                       extraction failed)
#     initramfs.cpio    the guest root file system (uncompressed)
#     kernel-version    e.g. 6.1.0-56-amd64
#   stamp               what the image was built from (kernel package+version,
#                       hash of this script, module list, apt lists fingerprint)
#   debs/               the downloaded .deb files (kept, reused on rebuilds)
#
# Idempotent: when the stamp matches (same kernel package, same script, same
# extra modules) it does nothing and returns in ~0.1-0.2 s. apt-cache
# is only consulted when the apt lists changed since the last run (it costs
# ~0.8 s on machines with APT's pkgcache disabled). `apt-get update` runs only
# when the kernel package cannot be resolved or downloaded.
#
# stdout: the kernel version only (one line). Progress goes to stderr.
#
# Knobs:
#   GORB_VM_CACHE=dir          cache location
#   GORB_VM_REBUILD=1          rebuild even if the stamp matches
#   GORB_VM_EXTRA_MODULES="a b" extra kernel modules to put in the image
set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
REPO=$(cd "$(dirname "$SELF")/../.." && pwd)
CACHE=${GORB_VM_CACHE:-${HOME:-/root}/.cache/gorb-vm}
DEBS=$CACHE/debs
EXTRA_MODULES=${GORB_VM_EXTRA_MODULES:-}

# kernel modules wanted in the guest, loaded in dependency order; missing ones
# are skipped (Debian 6.1 has no ip_vs_twos).
VM_MODULES="virtio_pci virtio_net virtio_console 9pnet_virtio 9p"
IPVS_MODULES="ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_sh ip_vs_dh ip_vs_mh
  ip_vs_sed ip_vs_nq ip_vs_lblc ip_vs_lblcr ip_vs_fo ip_vs_ovf ip_vs_twos nf_conntrack"
NET_MODULES="dummy veth ipip ip_gre gre fou fou6 ip6_tunnel ip6_gre sit"
MODULES="$VM_MODULES $IPVS_MODULES $NET_MODULES $EXTRA_MODULES"

# guest userland (+ kmod and its libraries, only run on the host for depmod /
# modprobe --show-depends). iproute2 is there because busybox `ip` cannot
# create veth pairs, network namespaces or fou/GUE ports. dash is /bin/sh:
# Debian's busybox sh runs its own applets before searching PATH, so under
# it `ip` would always be busybox's ip, never iproute2's.
GUEST_PKGS="busybox-static dash ipvsadm libnl-3-200 libnl-genl-3-200 libnl-route-3-200 libpopt0
  iproute2 libbpf1 libelf1 libmnl0 libbsd0 libmd0 libcap2 zlib1g"
HOST_TOOL_PKGS="kmod libkmod2 liblzma5 libzstd1 libssl3"

log() { echo "[vm-image] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

script_hash() { sha256sum "$SELF" | cut -c1-16; }
lists_fp() {
  # identity of the apt package lists: changes whenever `apt-get update` fetched something
  stat -c '%n %s %Y' /var/lib/apt/lists/*Packages* 2>/dev/null | sha256sum | cut -c1-16
}
stamp_get() { sed -n "s/^$1=//p" "$CACHE/stamp" 2>/dev/null | head -n1; }
artifacts_ok() { [ -s "$CACHE/current/kernel" ] && [ -s "$CACHE/current/initramfs.cpio" ] && [ -s "$CACHE/current/kernel-version" ]; }
have_host_tools() { command -v qemu-system-x86_64 >/dev/null && command -v cpio >/dev/null; }

# "linux-image-6.1.0-56-amd64 6.1.192-2" for the kernel linux-image-amd64 points to
resolve_kernel() {
  apt-cache show --no-all-versions linux-image-amd64 2>/dev/null |
    sed -n 's/^Depends:.*\(linux-image-[0-9][^ ,]*\) (= \([^)]*\)).*/\1 \2/p' | head -n1
}

# ------------------------------------------------------------ fast path ----
# $1 = "resolved kernel" if already known, else empty
up_to_date() {
  [ -z "${GORB_VM_REBUILD:-}" ] || return 1
  artifacts_ok && have_host_tools || return 1
  [ "$(stamp_get script)" = "$(script_hash)" ] || return 1
  [ "$(stamp_get extra)" = "$EXTRA_MODULES" ] || return 1
  local fp; fp=$(lists_fp)
  [ "$(stamp_get lists)" = "$fp" ] && return 0
  # apt lists changed: did linux-image-amd64 move?
  local k; k=${1:-$(resolve_kernel)}
  if [ -z "$k" ]; then
    log "apt cannot resolve linux-image-amd64 (no lists?); using the cached image"
    return 0
  fi
  [ "$(stamp_get kpkg)" = "$k" ] || return 1
  sed -i "s/^lists=.*/lists=$fp/" "$CACHE/stamp"
  return 0
}

# ---------------------------------------------------------------- build ----
APT_UPDATED=
apt_update() {
  [ -n "$APT_UPDATED" ] && return 0
  log "apt-get update"
  apt-get update -qq >&2
  APT_UPDATED=1
}

install_host_tools() {
  have_host_tools && return 0
  [ "$(id -u)" = 0 ] || die "qemu-system-x86_64/cpio missing and not root"
  export DEBIAN_FRONTEND=noninteractive
  log "installing qemu-system-x86 cpio"
  if ! apt-get install -y -qq --no-install-recommends qemu-system-x86 cpio >/dev/null 2>&1; then
    apt_update
    apt-get install -y -qq --no-install-recommends qemu-system-x86 cpio >/dev/null
  fi
  have_host_tools || die "qemu-system-x86_64 still missing"
}

# download (into $DEBS) the candidate version of every package in $*, reusing
# .debs from earlier runs when the version did not change
download_debs() {
  mkdir -p "$DEBS"
  local want have missing=()
  want=$(apt-cache show --no-all-versions "$@" 2>/dev/null | awk '/^Package:/{p=$2} /^Version:/{print p" "$2}') || true
  for p in "$@"; do
    local line; line=$(awk -v p="$p" '$1==p' <<<"$want")
    [ -n "$line" ] || { missing+=("$p"); continue; }
    if grep -qxF "$line" "$DEBS/MANIFEST" 2>/dev/null && compgen -G "$DEBS/${p}_*.deb" >/dev/null; then
      continue
    fi
    missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "downloading: ${missing[*]}"
  for p in "${missing[@]}"; do rm -f "$DEBS/${p}_"*.deb; done
  # -o APT::Sandbox::User=root: a root-owned target folder is fine
  if ! (cd "$DEBS" && apt-get download -qq -o APT::Sandbox::User=root "${missing[@]}" >&2); then
    apt_update
    want=$(apt-cache show --no-all-versions "$@" | awk '/^Package:/{p=$2} /^Version:/{print p" "$2}')
    (cd "$DEBS" && apt-get download -qq -o APT::Sandbox::User=root "${missing[@]}" >&2)
  fi
  # record what is now in $DEBS
  { grep -vE "^($(IFS='|'; echo "${missing[*]}")) " "$DEBS/MANIFEST" 2>/dev/null || true
    for p in "${missing[@]}"; do awk -v p="$p" '$1==p' <<<"$want"; done; } > "$DEBS/MANIFEST.new"
  mv "$DEBS/MANIFEST.new" "$DEBS/MANIFEST"
}

# The bzImage holds the kernel as a compressed ELF; qemu can boot that ELF
# directly through its PVH note, skipping the emulated real-mode setup and
# the emulated decompression (boot ~4.4 s -> ~2.1 s under TCG).
extract_vmlinux() {  # $1 = bzImage, $2 = output
  local img=$1 out=$2 off magic
  for magic in '\xfd7zXZ\x00:xz -dc' '\x28\xb5\x2f\xfd:zstd -dcq' '\x1f\x8b\x08:gzip -dc'; do
    command -v "${magic#*:}" >/dev/null 2>&1 || command -v "$(echo "${magic#*:}" | cut -d' ' -f1)" >/dev/null || continue
    off=$(LC_ALL=C grep -obUaP "${magic%%:*}" "$img" | head -n1 | cut -d: -f1) || true
    [ -n "$off" ] || continue
    tail -c +$((off + 1)) "$img" | ${magic#*:} > "$out" 2>/dev/null || true
    if [ "$(head -c 4 "$out" | od -An -c | tr -d ' ')" = '177ELF' ]; then
      log "vmlinux extracted ($(( $(stat -c %s "$out") >> 20 )) MiB)"; return 0
    fi
  done
  rm -f "$out"; return 1
}

build() {
  install_host_tools
  command -v dpkg >/dev/null && command -v apt-get >/dev/null || die "needs a Debian host (dpkg, apt)"

  local k; k=$(resolve_kernel)
  if [ -z "$k" ]; then apt_update; k=$(resolve_kernel); fi
  [ -n "$k" ] || die "cannot resolve the package linux-image-amd64 depends on"
  local kpkg=${k%% *}
  log "kernel package: $k"

  download_debs "$kpkg" $GUEST_PKGS $HOST_TOOL_PKGS

  local B=$CACHE/.build ROOT=$CACHE/.build/root IRD=$CACHE/.build/initramfs
  rm -rf "$B"; mkdir -p "$ROOT" "$IRD"
  log "unpacking"
  local p
  for p in "$kpkg" $GUEST_PKGS $HOST_TOOL_PKGS; do
    dpkg -x "$(compgen -G "$DEBS/${p}_*.deb" | head -n1)" "$ROOT"
  done
  local KVER; KVER=$(ls "$ROOT/lib/modules" | head -n1)
  [ -n "$KVER" ] || die "no /lib/modules in $kpkg"

  local LIBS=$ROOT/lib/x86_64-linux-gnu:$ROOT/usr/lib/x86_64-linux-gnu
  # the .deb ships no modules.dep (its postinst runs depmod)
  ln -sf kmod "$ROOT/bin/depmod"; ln -sf kmod "$ROOT/bin/modprobe"
  LD_LIBRARY_PATH=$LIBS "$ROOT/bin/depmod" -b "$ROOT" "$KVER"

  # ---- kernel
  local bz; bz=$(ls "$ROOT"/boot/vmlinuz-* | head -n1)
  if ! extract_vmlinux "$bz" "$B/kernel"; then
    log "could not extract vmlinux; booting the bzImage (about 2 s slower)"
    cp "$bz" "$B/kernel"
  fi

  # ---- initramfs
  mkdir -p "$IRD"/{bin,sbin,usr/bin,usr/sbin,usr/local/bin,etc,proc,sys,dev,tmp,run,host,root,lib64,var/run}
  mkdir -p "$IRD"/lib/x86_64-linux-gnu "$IRD/lib/modules/$KVER"
  chmod 1777 "$IRD/tmp"

  put() { mkdir -p "$IRD$(dirname "$2")"; cp -L "$1" "$IRD$2"; }
  # a binary plus every library ldd resolves for it (unpacked debs first,
  # then the host: glibc comes from the host, like the binaries on the share)
  put_with_libs() {  # $1 = path on the host, $2 = path in the guest
    put "$1" "$2"
    local out lib
    out=$(LD_LIBRARY_PATH=$LIBS ldd "$1") || die "ldd $1 failed"
    if grep -q 'not found' <<<"$out"; then die "$1: $(grep 'not found' <<<"$out" | tr -s '\t\n' '  ')"; fi
    awk '/=> \//{print $3} /^\t\/lib64/{print $1}' <<<"$out" | while read -r lib; do
      case $lib in
        "$ROOT"/*) put "$lib" "/lib/x86_64-linux-gnu/$(basename "$lib")" ;;
        *)         put "$lib" "$lib" ;;
      esac
    done
  }

  # busybox (static) and its applets; ip comes from iproute2, sh from dash
  cp "$ROOT/bin/busybox" "$IRD/bin/busybox"
  for a in $("$IRD/bin/busybox" --list); do
    [ "$a" = ip ] && continue
    [ -e "$IRD/bin/$a" ] || ln -s busybox "$IRD/bin/$a"
  done

  put_with_libs "$ROOT/bin/dash" /bin/dash
  ln -sf dash "$IRD/bin/sh"
  put_with_libs "$ROOT/sbin/ipvsadm" /sbin/ipvsadm
  put_with_libs "$ROOT/bin/ip" /bin/ip   # ($ROOT/sbin/ip is an absolute symlink)
  for d in "$ROOT/etc/iproute2" "$ROOT/usr/lib/iproute2" "$ROOT/usr/share/iproute2"; do
    [ -d "$d" ] && { mkdir -p "$IRD${d#"$ROOT"}"; cp -a "$d/." "$IRD${d#"$ROOT"}/"; }
  done

  # glibc set from the host, so dynamically linked host binaries on the 9p
  # share (bun, `bun build --compile` output) run unchanged
  local l
  for l in libc.so.6 libm.so.6 libpthread.so.0 libdl.so.2 librt.so.1 libgcc_s.so.1 \
           libresolv.so.2 libutil.so.1; do
    [ -e "/lib/x86_64-linux-gnu/$l" ] && put "/lib/x86_64-linux-gnu/$l" "/lib/x86_64-linux-gnu/$l"
  done
  put /lib64/ld-linux-x86-64.so.2 /lib64/ld-linux-x86-64.so.2
  ln -sf ../lib64/ld-linux-x86-64.so.2 "$IRD/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
  # whatever else the repo's bun binary needs (bun 1.4.5: nothing more, in
  # particular no libstdc++)
  if [ -x "$REPO/node_modules/bun/bin/bun.exe" ]; then
    ldd "$REPO/node_modules/bun/bin/bun.exe" | awk '/=> \//{print $3}' | while read -r l; do
      [ -e "$IRD/lib/x86_64-linux-gnu/$(basename "$l")" ] || put "$l" "/lib/x86_64-linux-gnu/$(basename "$l")"
    done
  fi
  # libnl under the names FFI callers dlopen()
  for l in libnl-3.so.200 libnl-genl-3.so.200 libnl-route-3.so.200; do
    put "$(ls "$ROOT"/{,usr/}lib/x86_64-linux-gnu/$l 2>/dev/null | head -n1)" "/lib/x86_64-linux-gnu/$l"
  done
  [ -d "$ROOT/etc/libnl-3" ] && cp -a "$ROOT/etc/libnl-3" "$IRD/etc/"

  # kernel modules in load order (modprobe --show-depends also follows soft
  # dependencies such as libcrc32c -> crc32c); builtins print nothing to load
  : > "$IRD/etc/modules.load"
  local m ko rel
  for m in $MODULES; do
    LD_LIBRARY_PATH=$LIBS "$ROOT/bin/modprobe" -d "$ROOT" -S "$KVER" --show-depends "$m" 2>/dev/null |
      awk '$1=="insmod"{print $2}' || log "module $m not available, skipped"
  done | awk '!seen[$0]++' | while read -r ko; do
    rel=${ko#"$ROOT/lib/modules/$KVER/"}
    put "$ko" "/lib/modules/$KVER/$rel"
    echo "$rel" >> "$IRD/etc/modules.load"
  done
  # a modules.dep for just these modules (enough for busybox modprobe/lsmod);
  # the full alias/symbol tables would add 2 MB for nothing
  awk -F: 'NR==FNR{want[$0]=1; next} ($1 in want)' "$IRD/etc/modules.load" \
    "$ROOT/lib/modules/$KVER/modules.dep" > "$IRD/lib/modules/$KVER/modules.dep"
  cp "$ROOT/lib/modules/$KVER/modules.builtin" "$IRD/lib/modules/$KVER/" 2>/dev/null || true
  log "$(wc -l < "$IRD/etc/modules.load") modules"

  # a little /etc so that libc, bun and iproute2 behave
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$IRD/etc/passwd"
  printf 'root:x:0:\n' > "$IRD/etc/group"
  printf '127.0.0.1\tlocalhost gorb-vm\n::1\tlocalhost ip6-localhost ip6-loopback\n' > "$IRD/etc/hosts"
  printf 'hosts: files dns\n' > "$IRD/etc/nsswitch.conf"
  printf 'nameserver 10.0.2.3\n' > "$IRD/etc/resolv.conf"
  echo gorb-vm > "$IRD/etc/hostname"
  echo "$KVER" > "$IRD/etc/gorb-vm-kernel"

  write_init "$IRD/init"
  # uncompressed: saves the kernel ~0.2 s of emulated gunzip per boot
  (cd "$IRD" && find . | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) > "$B/initramfs.cpio"
  log "initramfs $(du -h "$B/initramfs.cpio" | cut -f1), kernel $KVER"

  # publish: a new images/<build>/ folder, then switch the current symlink
  # atomically. qemu reads kernel and initrd completely at start-up; the
  # previous build stays for a VM that resolved the link a moment ago.
  echo "$KVER" > "$B/kernel-version"
  local name; name="$KVER-$(script_hash)-$(date +%s)"
  mkdir -p "$CACHE/images/$name"
  mv "$B/kernel" "$B/initramfs.cpio" "$B/kernel-version" "$CACHE/images/$name/"
  ln -sfn "images/$name" "$CACHE/current.new"
  mv -T "$CACHE/current.new" "$CACHE/current"
  ls -1dt "$CACHE"/images/*/ | tail -n +3 | while read -r d; do rm -rf "$d"; done
  rm -f "$CACHE"/kernel "$CACHE"/initramfs.cpio* "$CACHE"/kernel-version   # older layout
  printf 'kpkg=%s\nkver=%s\nscript=%s\nextra=%s\nlists=%s\n' \
    "$k" "$KVER" "$(script_hash)" "$EXTRA_MODULES" "$(lists_fp)" > "$CACHE/stamp.new"
  mv -f "$CACHE/stamp.new" "$CACHE/stamp"
  # the unpacked tree is ~400 MB; the .debs stay for the next rebuild
  rm -rf "$B"
}

write_init() {
  cat > "$1" <<'EOF'
#!/bin/sh
# /init of gorb's test VM: set up, run one command, report its exit code, power off.
export PATH=/usr/local/bin:/bin:/sbin:/usr/bin:/usr/sbin HOME=/root TMPDIR=/tmp TERM=dumb
# Protocol with test/kernel/vm.ts:
#   in:  kernel cmdline vmcmdfile=/run/gorb-vm/cmd.sh (9p tag ctl0, the
#        harness's per-run folder) or vmcmd=<base64 of the command>
#   out: the command's stdout+stderr on virtio-serial port "gorb.out" (or
#        ttyS1); exit status in /run/gorb-vm/exit-code, as a VM_EXIT_CODE=N
#        line on the console (ttyS0), and via isa-debug-exit (port 0xf4)
# the host wants plain text, also when the output channel is a tty (ttyS1)
export NO_COLOR=1
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/shm /dev/pts /root
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t devpts devpts /dev/pts 2>/dev/null
ln -sf /proc/self/fd /dev/fd
ln -sf /proc/self/fd/0 /dev/stdin
ln -sf /proc/self/fd/1 /dev/stdout
ln -sf /proc/self/fd/2 /dev/stderr
hostname gorb-vm
KVER=$(uname -r)

# modules, in dependency order (crc32c-intel may fail on some -cpu models;
# crc32c_generic covers it)
while read -r ko; do
  args=
  case $ko in */dummy.ko) args=numdummies=0 ;; esac   # no stray dummy0
  insmod "/lib/modules/$KVER/$ko" $args 2>/dev/null || echo "init: insmod $ko failed" >/dev/console
done < /etc/modules.load

# network: qemu user-mode (slirp) defaults
ip link set lo up
if ip link show eth0 >/dev/null 2>&1; then
  ip link set eth0 up
  ip addr add 10.0.2.15/24 dev eth0
  ip route add default via 10.0.2.2
fi

# 9p shares: host0 = the caller's folder at /host, ctl0 = the harness's
# per-run folder (command file, exit code) at /run/gorb-vm
for t in /sys/bus/virtio/drivers/9pnet_virtio/*/mount_tag; do
  [ -e "$t" ] || continue
  case $(tr -d '\0' < "$t") in
    host0) mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose host0 /host ;;
    ctl0)  mkdir -p /run/gorb-vm
           mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 ctl0 /run/gorb-vm ;;
  esac
done

# the repo's bun, when the share is a gorb checkout
[ -x /host/node_modules/bun/bin/bun.exe ] && ln -sf /host/node_modules/bun/bin/bun.exe /usr/local/bin/bun

ulimit -n 65536 2>/dev/null || ulimit -n 4096 2>/dev/null

# the command: a file named by vmcmdfile= (on a share), else base64 in vmcmd=
CMDFILE=
CMD=
for w in $(cat /proc/cmdline); do
  case $w in
    vmcmdfile=*) CMDFILE=${w#vmcmdfile=} ;;
    vmcmd=*) CMD=$(echo "${w#vmcmd=}" | base64 -d) ;;
  esac
done
if [ -n "$CMDFILE" ] && [ -r "$CMDFILE" ]; then
  cp "$CMDFILE" /run/vm-cmd.sh
else
  printf '%s\n' "$CMD" > /run/vm-cmd.sh
fi

# command output (stdout+stderr) goes to the virtio-serial port "gorb.out"
# (fast, not a tty), else to the 2nd serial port (raw, ~150 KB/s), so the host
# sees it without kernel messages and without \r
OUT=
for n in /sys/class/virtio-ports/*/name; do
  d=${n%/name}
  [ "$(cat "$n" 2>/dev/null)" = gorb.out ] && OUT=/dev/${d##*/}
done
if [ -z "$OUT" ] || [ ! -c "$OUT" ]; then
  OUT=/dev/ttyS1
  [ -c $OUT ] && stty -F $OUT raw -echo 2>/dev/null || OUT=/dev/console
fi
if grep -q " /host " /proc/mounts; then cd /host; else cd /tmp; fi
sh /run/vm-cmd.sh >$OUT 2>&1 </dev/null
rc=$?
cd /
echo "VM_EXIT_CODE=$rc" >/dev/console
if grep -q " /run/gorb-vm " /proc/mounts; then
  echo $rc > /run/gorb-vm/exit-code
  umount /run/gorb-vm
fi
sync

# hand the exit code to qemu (isa-debug-exit at port 0xf4): qemu exits with
# (rc<<1)|1, so only 0..127 survive; the exit-code file above has the rest
p=$rc; [ $p -gt 127 ] && p=127
printf "$(printf '\\%03o' $p)" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
# not reached when the debug-exit device is present
poweroff -f
EOF
  chmod +x "$1"
}

# ----------------------------------------------------------------- main ----
mkdir -p "$CACHE"
if up_to_date ""; then cat "$CACHE/current/kernel-version"; exit 0; fi

exec 9>"$CACHE/.lock"
flock 9
# somebody else may have built it while we waited
if up_to_date ""; then cat "$CACHE/current/kernel-version"; exit 0; fi
[ "$(id -u)" = 0 ] || die "the VM image needs (re)building; run as root: $SELF"
SECONDS=0
build
log "built in ${SECONDS} s"
cat "$CACHE/current/kernel-version"

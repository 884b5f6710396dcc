#!/usr/bin/env bash
# tests/vm/selinux-policy.sh OUT - compile the small MLS SELinux policy the
# LSM leg loads in its VM (Debian's refpolicy ships modules that only
# semodule links, with /etc/selinux state; this is one checkpolicy call).
# Every declared class is allowed between all types and unknown classes are
# allowed (-U allow), so the VM can run enforcing: the leg checks labels
# (what the process and the mounts get, and that the policy rejects an
# unknown type), not a policy's denials.
set -euo pipefail
out=${1:?usage: selinux-policy.sh OUT}
command -v checkpolicy >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends checkpolicy >&2
src=$(mktemp)
trap 'rm -f "$src"' EXIT
classes=(process process2 file dir lnk_file chr_file blk_file sock_file fifo_file filesystem fd key
	security system capability capability2 cap_userns cap2_userns unix_stream_socket unix_dgram_socket netlink_route_socket)
{
	for c in "${classes[@]}"; do echo "class $c"; done
	printf 'sid %s\n' kernel security unlabeled fs file
	# The kernel refuses a policy without process transition and
	# dyntransition; the other classes need no real permission names.
	echo 'class process { fork transition sigchld sigkill sigstop signull signal ptrace getsched setsched
		getsession getpgid setpgid getcap setcap share getattr setexec setfscreate noatsecure siginh
		setrlimit rlimitinh dyntransition setcurrent execmem execstack execheap setkeycreate
		setsockcreate getrlimit }'
	# Under no_new_privs the kernel allows a transition only with this
	# permission and the policy capability below.
	echo 'class process2 { nnp_transition nosuid_transition }'
	for c in "${classes[@]:2}"; do echo "class $c { carapace_any }"; done
	echo 'sensitivity s0;'
	echo 'dominance { s0 }'
	for i in $(seq 0 1023); do echo "category c$i;"; done
	echo 'level s0:c0.c1023;'
	# The grammar wants one MLS constraint: a trivially true one.
	echo 'mlsconstrain file carapace_any ( l1 domby h1 );'
	echo 'policycap nnp_nosuid_transition;'
	echo 'attribute any;'
	for t in kernel_t unlabeled_t file_t fs_t tmpfs_t proc_t sysfs_t devpts_t container_t container_file_t; do
		echo "type $t, any;"
	done
	for c in "${classes[@]}"; do echo "allow any any : $c *;"; done
	echo 'role system_r;'
	echo 'role system_r types any;'
	echo 'user system_u roles { system_r object_r } level s0 range s0 - s0:c0.c1023;'
	echo 'sid kernel system_u:system_r:kernel_t:s0 - s0:c0.c1023'
	echo 'sid security system_u:object_r:kernel_t:s0'
	echo 'sid unlabeled system_u:object_r:unlabeled_t:s0'
	echo 'sid fs system_u:object_r:fs_t:s0'
	echo 'sid file system_u:object_r:file_t:s0'
	for fs in tmpfs devpts mqueue; do echo "fs_use_trans $fs system_u:object_r:tmpfs_t:s0;"; done
	echo 'fs_use_xattr ext4 system_u:object_r:file_t:s0;'
	echo 'genfscon proc / system_u:object_r:proc_t:s0'
	echo 'genfscon sysfs / system_u:object_r:sysfs_t:s0'
	echo 'genfscon 9p / system_u:object_r:file_t:s0'
	echo 'genfscon selinuxfs / system_u:object_r:fs_t:s0'
	echo 'genfscon securityfs / system_u:object_r:fs_t:s0'
	echo 'genfscon cgroup2 / system_u:object_r:fs_t:s0'
} >"$src"
checkpolicy -M -U allow -c 33 -o "$out" "$src" >&2

#!/usr/bin/env bash
# tests/vm/selinux-policy.sh OUT - compile the small MLS SELinux policy the
# LSM leg loads in its VM (Debian's refpolicy ships modules that only
# semodule links, with /etc/selinux state; this is one checkpolicy call).
# What it enforces: every type may do anything to any type, except that
# container_t (podman's process type) is allowed no file-class permission
# (read, open, getattr, write, execute...) on objects of type
# carapace_secret_t: that is the one denial, which TestSELinuxConfined
# checks (enforcing: refused in a container_t process, read by an
# unlabelled container). Unknown classes and the permissions the policy
# does not declare are allowed (-U allow; only process, process2 and file
# declare the kernel's permission names), so the VM can run enforcing with
# a small policy. The leg also checks labels: what the process, the mounts
# and the files the runtime creates get, and that the policy rejects an
# unknown type.
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
	# file declares the kernel's permissions, so that denying them means
	# something (an undeclared permission is allowed by -U allow).
	echo 'class file { ioctl read write create getattr setattr lock relabelfrom relabelto append map unlink
		link rename execute quotaon mounton audit_access open execmod watch watch_mount watch_sb
		watch_with_perm watch_reads execute_no_trans entrypoint }'
	for c in "${classes[@]:3}"; do echo "class $c { carapace_any }"; done
	echo 'sensitivity s0;'
	echo 'dominance { s0 }'
	for i in $(seq 0 1023); do echo "category c$i;"; done
	echo 'level s0:c0.c1023;'
	# The grammar wants one MLS constraint: a trivially true one.
	echo 'mlsconstrain dir carapace_any ( l1 domby h1 );'
	echo 'policycap nnp_nosuid_transition;'
	# any: every type; unconfined: every type but container_t; notsecret:
	# every type but carapace_secret_t.
	echo 'attribute any;'
	echo 'attribute unconfined;'
	echo 'attribute notsecret;'
	for t in kernel_t unlabeled_t file_t fs_t tmpfs_t proc_t sysfs_t devpts_t container_file_t; do
		echo "type $t, any, unconfined, notsecret;"
	done
	echo 'type container_t, any, notsecret;'
	echo 'type carapace_secret_t, any, unconfined;'
	for c in "${classes[@]}"; do
		echo "allow unconfined any : $c *;"
		echo "allow container_t notsecret : $c *;"
	done
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

// Runs first in every child the runtime spawns (a container's init, an exec
// helper), as a constructor, before the Go runtime starts any thread.
//
// It makes the child non-dumpable before anything else, so that no process
// of a container can ptrace it, read its memory or environment, or reach
// its descriptors through /proc/<pid>/fd while it holds the runtime's
// (CVE-2016-9962). It then joins the namespaces a multithreaded Go process
// cannot: user and time namespaces need a single-threaded caller. And it
// joins the mount namespace, last: the runtime's binary has been exec'd by
// then, looked up in the host's mount namespace, so nothing the container
// mounts (a tmpfs over its /proc, say) decides what the runtime executes.
//
// _CARAPACE_NSENTER is "SYNCFD;UNSHARE;FD:TYPE,FD:TYPE,...": the
// CLONE_NEW* flags to unshare after the joins (so that new namespaces are
// owned by the joined user namespace), and the fds to setns into, in
// order (user first, mount last). With CLONE_NEWPID, or a pid namespace
// joined here, the process forks once, as only children enter a new or
// joined pid namespace; the child goes on and the parent reports its pid
// and exits. With CLONE_NEWTIME it forks too, after writing
// _CARAPACE_TIMENS (linux.timeOffsets, as /proc/self/timens_offsets takes
// them) for the new namespace: only children are born in it (execve moves
// the caller in on recent kernels only, not Debian 12's 6.1), and its
// offsets can be set only while no process is in it.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <link.h>
#include <malloc.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

// The runtime's timer slack (ns), and the caller's, which the children the
// runtime starts get back (see package timerslack).
#define CARAPACE_TIMERSLACK 1000000
unsigned long carapace_host_timerslack;

// raise_timerslack records the caller's timer slack and raises this
// process's, before the Go runtime starts its threads (which inherit it):
// sysmon then wakes the process far less often.
static void raise_timerslack(void) {
	int cur = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (cur <= 0)
		return;
	carapace_host_timerslack = (unsigned long)cur;
	if (cur < CARAPACE_TIMERSLACK)
		prctl(PR_SET_TIMERSLACK, CARAPACE_TIMERSLACK, 0, 0, 0);
}

// one_malloc_arena keeps every thread on glibc's main malloc arena. The
// Go runtime's threads are started through pthread_create (cgo), and each
// frees its start record on its own thread: glibc then gives that thread
// an arena of its own, a 128 MiB reservation trimmed with two munmaps and
// an mprotect, under the mm lock the other threads' page faults need. Four
// or five threads start in every process of the runtime, and the C code in
// it allocates a few bytes, never concurrently.
static void one_malloc_arena(void) {
	mallopt(M_ARENA_MAX, 1);
}

// prefault_segment populates the executable segments of the first object
// dl_iterate_phdr reports, the binary itself, and stops there.
static int prefault_segment(struct dl_phdr_info *info, size_t size, void *data) {
	(void)size;
	(void)data;
	long page = sysconf(_SC_PAGESIZE);
	for (int i = 0; page > 0 && i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t start = info->dlpi_addr + ph->p_vaddr;
		uintptr_t lo = start & ~(uintptr_t)(page - 1);
		madvise((void *)lo, start + ph->p_memsz - lo, MADV_POPULATE_READ);
	}
	return 1;
}

// prefault_text maps this binary's code in with one call instead of a
// page fault every 16 pages as the Go runtime and the package initialisers
// run through it: the pages are in the page cache (a container's init
// maps the same file through sealexe's read-only mount, or a sealed memfd
// copy for a caller without the privilege for that), so this only fills
// page tables, and most of the code would be touched anyway (measured: RSS +0.1 MiB for create,
// +0.25 for init). The read-only data is left to fault: it is mostly
// pclntab, rarely read, and populating it added a MiB of RSS per process
// for a third of the gain. Kernels before 5.14 refuse MADV_POPULATE_READ
// (EINVAL): the code then faults in as before.
static void prefault_text(void) {
	dl_iterate_phdr(prefault_segment, NULL);
}

// send writes one ipc frame: a 4-byte big-endian length, then JSON.
static void send_frame(int fd, const char *json) {
	size_t n = strlen(json);
	unsigned char hdr[4] = {n >> 24, n >> 16, n >> 8, n};
	if (write(fd, hdr, 4) != 4 || write(fd, json, n) != (ssize_t)n)
		_exit(1);
}

static void fail(int syncfd, const char *fmt, ...) {
	char msg[512], esc[1100], json[1200];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	size_t j = 0;
	for (size_t i = 0; msg[i] && j < sizeof esc - 2; i++) {
		if (msg[i] == '"' || msg[i] == '\\')
			esc[j++] = '\\';
		esc[j++] = (msg[i] < 0x20) ? ' ' : msg[i];
	}
	esc[j] = 0;
	snprintf(json, sizeof json, "{\"kind\":\"error\",\"error\":\"%s\"}", esc);
	send_frame(syncfd, json);
	_exit(1);
}

static const char *ns_name(long type) {
	switch (type) {
	case CLONE_NEWUSER: return "user";
	case CLONE_NEWTIME: return "time";
	case CLONE_NEWNS: return "mount";
	case CLONE_NEWNET: return "network";
	case CLONE_NEWIPC: return "ipc";
	case CLONE_NEWUTS: return "uts";
	case CLONE_NEWPID: return "pid";
	case CLONE_NEWCGROUP: return "cgroup";
	}
	return "unknown";
}

// enter_namespaces does the joins described at the top of this file. It
// returns in the process that goes on into the Go runtime, and exits in
// any other (a user namespace holder, the parent of a fork).
static void enter_namespaces(void) {
	if (getenv("_CARAPACE_USERNS_HOLD") != NULL) {
		// A user namespace holder (namespaces.NewUserNS): it exists only
		// while the runtime writes the namespace's maps, and goes when
		// the runtime closes its stdin.
		char c;
		while (read(0, &c, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	const char *spec = getenv("_CARAPACE_NSENTER");
	if (spec == NULL) {
		raise_timerslack();
		return;
	}
	char *end;
	int syncfd = (int)strtol(spec, &end, 10);
	if (*end != ';')
		_exit(1);
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		fail(syncfd, "nsenter: set non-dumpable: %s", strerror(errno));
	raise_timerslack();
	long unshare_flags = strtol(end + 1, &end, 10);
	if (*end != ';')
		fail(syncfd, "nsenter: bad spec");
	const char *p = end + 1;
	int joined_pid = 0;
	while (*p) {
		int fd = (int)strtol(p, &end, 10);
		if (*end != ':')
			fail(syncfd, "nsenter: bad spec");
		long type = strtol(end + 1, &end, 10);
		if (setns(fd, (int)type) < 0)
			fail(syncfd, "linux.namespaces: join %s namespace: %s", ns_name(type), strerror(errno));
		close(fd);
		if (type == CLONE_NEWPID)
			joined_pid = 1;
		if (type == CLONE_NEWUSER) {
			// Become the namespace's root: the host ids this process had
			// are not mapped there, and files made with them could not be.
			if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
				fail(syncfd, "linux.namespaces: become root in the joined user namespace (is 0 mapped?): %s", strerror(errno));
		}
		p = (*end == ',') ? end + 1 : end;
	}
	if (unshare_flags & ~CLONE_NEWPID) {
		if (unshare((int)(unshare_flags & ~CLONE_NEWPID)) < 0)
			fail(syncfd, "linux.namespaces: create namespaces in the joined user namespace: %s", strerror(errno));
	}
	unsetenv("_CARAPACE_NSENTER");
	const char *offsets = getenv("_CARAPACE_TIMENS");
	if ((unshare_flags & CLONE_NEWTIME) && offsets != NULL && *offsets) {
		int fd = open("/proc/self/timens_offsets", O_WRONLY | O_CLOEXEC);
		size_t n = strlen(offsets);
		if (fd < 0 || write(fd, offsets, n) != (ssize_t)n)
			fail(syncfd, "linux.timeOffsets: write /proc/self/timens_offsets: %s", strerror(errno));
		close(fd);
	}
	unsetenv("_CARAPACE_TIMENS");
	if (!(unshare_flags & (CLONE_NEWPID | CLONE_NEWTIME)) && !joined_pid)
		return;
	if ((unshare_flags & CLONE_NEWPID) && unshare(CLONE_NEWPID) < 0)
		fail(syncfd, "linux.namespaces: create pid namespace in the joined user namespace: %s", strerror(errno));
	// CLONE_PARENT keeps init a child of the runtime, which waits for it.
	long pid = syscall(SYS_clone, CLONE_PARENT | SIGCHLD, 0, 0, 0, 0);
	if (pid < 0)
		fail(syncfd, "nsenter: clone: %s", strerror(errno));
	if (pid == 0)
		return;
	char json[64];
	snprintf(json, sizeof json, "{\"kind\":\"pid\",\"pid\":%ld}", pid);
	send_frame(syncfd, json);
	_exit(0);
}

__attribute__((constructor)) static void carapace_nsenter(void) {
	one_malloc_arena();
	enter_namespaces();
	prefault_text();
}

/*
 * The pod sandbox's pid 1 for the CRI suite (registry.k8s.io/pause:3.9 in
 * its registry): it holds the pod's namespaces and does nothing else. It
 * exits on SIGINT and SIGTERM (the CRI stops a sandbox with a signal), and
 * reaps the zombies that are re-parented to it when the pod shares one pid
 * namespace. Built static (gcc -static -O2): the image has no libc.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void quit(int sig)
{
	(void)sig;
	_exit(0);
}

static void reap(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved;
}

static int on(int sig, void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	/* Children that stop do not wake us: only exits matter. */
	sa.sa_flags = sig == SIGCHLD ? SA_NOCLDSTOP | SA_RESTART : SA_RESTART;
	return sigaction(sig, &sa, NULL);
}

int main(void)
{
	if (getpid() != 1)
		fprintf(stderr, "pause: not pid 1; running anyway\n");
	if (on(SIGINT, quit) || on(SIGTERM, quit) || on(SIGCHLD, reap)) {
		perror("pause: sigaction");
		return 1;
	}
	for (;;)
		pause();
}

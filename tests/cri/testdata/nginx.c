/*
 * A stand-in for nginx in critest's web server images
 * (registry.k8s.io/e2e-test-images/nginx:1.14-2 and
 * gcr.io/k8s-staging-cri-tools/hostnet-nginx-amd64), with what the tests
 * look at: a process whose name is "nginx" (pidof nginx) and whose
 * /proc/<pid>/cmdline says "nginx: master process", the master's pid in
 * /var/run/nginx.pid, and a web server on NGINX_PORT (default 80) serving
 * /usr/share/nginx/html: busybox httpd, the master's child. TERM, INT or
 * QUIT stop both, as nginx's own handlers do (the master is often its
 * pid namespace's init, which gets no signal it has no handler for).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const char title[] = "nginx: master process nginx -g daemon off;";
static volatile sig_atomic_t stopping;

static void on_stop(int sig)
{
	(void)sig;
	stopping = 1;
}

int main(int argc, char **argv)
{
	(void)argc;
	/*
	 * nginx rewrites its argv into its title; re-executing itself (by its
	 * own path, so that the kernel names the process "nginx") with the
	 * title as argv[0] does the same.
	 */
	if (strncmp(argv[0], "nginx: ", 7) != 0) {
		char self[4096];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		if (n < 0) {
			perror("nginx: readlink /proc/self/exe");
			return 1;
		}
		self[n] = '\0';
		char *const args[] = {(char *)title, NULL};
		execv(self, args);
		perror("nginx: re-execute");
		return 1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGQUIT, &sa, NULL);

	FILE *f = fopen("/var/run/nginx.pid", "w");
	if (f == NULL) {
		perror("nginx: /var/run/nginx.pid");
		return 1;
	}
	fprintf(f, "%d\n", getpid());
	fclose(f);

	const char *port = getenv("NGINX_PORT");
	if (port == NULL || *port == '\0')
		port = "80";
	pid_t child = fork();
	if (child < 0) {
		perror("nginx: fork");
		return 1;
	}
	if (child == 0) {
		execl("/bin/busybox", "httpd", "-f", "-p", port, "-h", "/usr/share/nginx/html", (char *)NULL);
		perror("nginx: exec busybox httpd");
		_exit(127);
	}
	fprintf(stderr, "nginx: master process %d, worker (busybox httpd) %d on port %s\n", getpid(), child, port);
	int status = 0, killed = 0;
	for (;;) {
		if (stopping && !killed) {
			kill(child, SIGTERM);
			killed = 1;
		}
		/* Also reaps what is re-parented to us as an init. */
		pid_t p = wait(&status);
		if (p == child || (p < 0 && errno != EINTR))
			break;
	}
	unlink("/var/run/nginx.pid");
	if (stopping)
		return 0;
	fprintf(stderr, "nginx: worker exited (status %d)\n", status);
	return 1;
}

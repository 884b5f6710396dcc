/*
 * Kubernetes' nonewprivs test program (registry.k8s.io/e2e-test-images/
 * nonewprivs): installed set-user-ID root and run as another user, it
 * says which effective uid it got, 0 unless no_new_privs kept the
 * set-user-ID bit from taking effect.
 */
#include <stdio.h>
#include <unistd.h>

int main(void)
{
	printf("Effective uid: %d\n", geteuid());
	return 0;
}

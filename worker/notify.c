/* SPDX-License-Identifier: Apache-2.0 */
/*
 * notify.c - tells a service manager (systemd Type=notify) the daemon's
 * state: one datagram to $NOTIFY_SOCKET, the protocol sd_notify(3)
 * documents as stable, so libsystemd is not linked (it would add seven
 * libraries to an enclave's trusted files).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "notify.h"

/* Sends state to $NOTIFY_SOCKET; 1 sent, 0 no socket, -1 error (errno). */
int notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	size_t len, mlen = strlen(state);
	socklen_t salen;
	ssize_t n;
	int fd, saved;

	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sa.sun_path) || len < 2) {
		errno = EINVAL;
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@') /* abstract namespace: leading NUL, no terminator */
		sa.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len + (path[0] == '/'));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	do {
		n = sendto(fd, state, mlen, MSG_NOSIGNAL, (const struct sockaddr *)&sa, salen);
	} while (n < 0 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n < 0 || (size_t)n != mlen) {
		errno = n < 0 ? saved : EMSGSIZE;
		return -1;
	}
	return 1;
}

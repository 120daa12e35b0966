/* SPDX-License-Identifier: Apache-2.0 */
/* notify.h - service manager readiness notification (sd_notify protocol) without libsystemd. */
#ifndef TCW_WORKER_NOTIFY_H
#define TCW_WORKER_NOTIFY_H

/* Sends state (e.g. "READY=1", "STOPPING=1") as one datagram to the
 * AF_UNIX socket named by NOTIFY_SOCKET (a path, or "@name" for the
 * abstract namespace). Returns 1 when sent, 0 when NOTIFY_SOCKET is unset
 * or empty (not run by a service manager), -1 when it is set but the
 * message could not be sent (errno says why). */
int notify_send(const char *state);

#endif /* TCW_WORKER_NOTIFY_H */

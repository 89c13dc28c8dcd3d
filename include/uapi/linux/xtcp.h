/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * xtcp: TCP's passive-open path reimplemented as its own socket family.
 *
 * What userspace needs to talk to the xtcp module.  An xtcp socket is
 * created with socket(AF_XTCP, SOCK_STREAM, 0) and otherwise addressed
 * exactly like an AF_INET TCP socket: bind(), getsockname() and
 * getpeername() use struct sockaddr_in with sin_family == AF_INET.
 */
#ifndef _UAPI_LINUX_XTCP_H
#define _UAPI_LINUX_XTCP_H

/*
 * Default address family number.  25 (the long-gone AF_WANPIPE) is not
 * registered by any in-tree family in Linux 6.1 or 6.12.  The module
 * parameter "family" overrides it; /sys/module/xtcp/parameters/family
 * tells userspace which number the loaded module uses.
 */
#define AF_XTCP		25
#define PF_XTCP		AF_XTCP

/* Name of the per-namespace sysctl directory: /proc/sys/net/xtcp/ */
#define XTCP_SYSCTL_DIR	"net/xtcp"

/* Per-namespace counters, nstat style: /proc/net/xtcp_stat */
#define XTCP_PROC_STAT	"xtcp_stat"
/* /proc/net/xtcp_sockstat: the sockets, as the TCP line of sockstat. */
#define XTCP_PROC_SOCKSTAT	"xtcp_sockstat"
/* /proc/net/xtcp: every socket, in the format of /proc/net/tcp. */
#define XTCP_PROC_TCP	"xtcp"

#endif /* _UAPI_LINUX_XTCP_H */

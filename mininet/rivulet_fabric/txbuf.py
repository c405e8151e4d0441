"""The send buffer of Open vSwitch's userspace-datapath transmit socket, raised for the fabric's lifetime.

Why (ARCHITECTURE.md "Platform facts"): with ``datapath_type=netdev`` on Linux, ovs-vswitchd sends the
frames of every system port of every bridge through ONE ``AF_PACKET`` socket (``socket(AF_PACKET,
SOCK_RAW, 0)``, not bound to an interface, created at the first transmit).  A frame waiting in a port's
qdisc is still charged to that socket's send buffer (212,992 bytes by default, about 90 full frames), so
once the switch ports' HTB queues together hold more than that, ``sendmmsg`` fails with EAGAIN and OVS
drops the frames it was sending, on whichever port they were for (idle ports included), without counting
them in any interface, qdisc or datapath counter.  A hardware switch has no such coupling between ports;
the fabric restores the switch-like behaviour by giving the socket a buffer larger than every qdisc's
backlog together, and puts the old size back at teardown.

How: the socket is found by its inode (``/proc/net/packet``, protocol 0, no interface, matched against
``/proc/<pid>/fd``), duplicated into this process with ``pidfd_getfd(2)`` (the same open socket, not a
copy) and given ``SO_SNDBUFFORCE`` (socket(7): root may exceed ``net.core.wmem_max``; the kernel doubles
the value asked for, as for ``SO_SNDBUF``).
"""

import ctypes
import os
import socket
import sys
import threading
import time

SO_SNDBUFFORCE = 32  # <asm-generic/socket.h>
SYS_PIDFD_GETFD = 438  # the same number on every architecture (Linux 5.6+)
PIDFILES = ('/var/run/openvswitch/ovs-vswitchd.pid', '/run/openvswitch/ovs-vswitchd.pid',
            '/usr/local/var/run/openvswitch/ovs-vswitchd.pid')


def vswitchd_pid():
    """The pid of the running ovs-vswitchd, from its pidfile; None when none is found."""
    for path in PIDFILES:
        try:
            with open(path) as f:
                pid = int(f.read().strip())
        except (OSError, ValueError):
            continue
        if os.path.exists('/proc/%d' % pid):
            return pid
    return None


def unbound_packet_inodes(proc_net_packet):
    """Inodes of the AF_PACKET sockets bound to no interface and no protocol (``/proc/net/packet`` text):
    the kind of socket the userspace datapath transmits through."""
    out = set()
    for line in proc_net_packet.splitlines()[1:]:
        cols = line.split()
        # sk RefCnt Type Proto Iface R Rmem User Inode
        if len(cols) >= 9 and cols[3] == '0000' and cols[4] == '0':
            out.add(cols[8])
    return out


def find_tx_socket(pid):
    """The fd number, in process `pid`, of its unbound AF_PACKET socket; None when it has none (yet)."""
    with open('/proc/net/packet') as f:
        inodes = unbound_packet_inodes(f.read())
    if not inodes:
        return None
    fd_dir = '/proc/%d/fd' % pid
    for name in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, name))
        except OSError:
            continue
        if target.startswith('socket:[') and target[8:-1] in inodes:
            return int(name)
    return None


def set_sndbuf(pid, fd, size_bytes):
    """Sets SO_SNDBUFFORCE = `size_bytes` on socket `fd` of process `pid`; returns (before, after) as
    SO_SNDBUF reads them (bytes, the kernel's doubled figure).  Raises OSError (e.g. EPERM when not root)."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(pid)
    try:
        dup = libc.syscall(SYS_PIDFD_GETFD, pidfd, fd, 0)
        if dup < 0:
            err = ctypes.get_errno()
            raise OSError(err, 'pidfd_getfd: %s' % os.strerror(err))
        s = socket.socket(fileno=dup)
        try:
            before = s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
            s.setsockopt(socket.SOL_SOCKET, SO_SNDBUFFORCE, size_bytes)
            return before, s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
        finally:
            s.close()  # closes this process's duplicate only; the socket lives on in ovs-vswitchd
    finally:
        os.close(pidfd)


class TxBuffer:
    """Raises the transmit socket's send buffer once it exists (a thread waits up to `wait_s` for OVS's
    first transmit), and puts the old size back at `restore()`.  `state()` says what happened, for the
    fabric's topology answer."""

    def __init__(self, size_bytes, wait_s=30.0):
        self.size_bytes = size_bytes  # what SO_SNDBUF is to read (the kernel doubles what is asked for)
        self.wait_s = wait_s
        self.lock = threading.Lock()
        self.info = {'requestedBytes': size_bytes, 'state': 'pending'}
        self.pid = None
        self.fd = None
        self.before = None
        self.stopped = threading.Event()
        self.thread = None

    def start(self):
        if self.size_bytes <= 0:
            self.info['state'] = 'off'
            return
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        deadline = time.time() + self.wait_s
        try:
            pid = vswitchd_pid()
            if pid is None:
                raise OSError('no running ovs-vswitchd (pidfile not found)')
            while not self.stopped.is_set():
                fd = find_tx_socket(pid)
                if fd is not None:
                    with self.lock:
                        if self.stopped.is_set():
                            return
                        before, after = set_sndbuf(pid, fd, self.size_bytes // 2)
                        self.pid, self.fd, self.before = pid, fd, before
                        self.info.update({'state': 'set', 'beforeBytes': before, 'bytes': after})
                    sys.stderr.write('fabric.py: ovs-vswitchd transmit socket send buffer %d -> %d bytes\n'
                                     % (before, after))
                    return
                if time.time() > deadline:
                    raise OSError('ovs-vswitchd opened no transmit socket within %.0f s' % self.wait_s)
                self.stopped.wait(0.1)
        except Exception as exc:  # reported in the topology answer and on stderr; the fabric still works
            self.info.update({'state': 'failed', 'error': '%s: %s' % (type(exc).__name__, exc)})
            sys.stderr.write('fabric.py: transmit socket send buffer not raised: %s\n' % exc)

    def state(self):
        with self.lock:
            return dict(self.info)

    def restore(self):
        """Puts the send buffer back to what it was (when it was raised and the socket is still the same)."""
        self.stopped.set()
        with self.lock:
            if self.before is None:
                return
            try:
                if find_tx_socket(self.pid) == self.fd:
                    set_sndbuf(self.pid, self.fd, self.before // 2)  # SO_SNDBUF reads back doubled
                    self.info['state'] = 'restored'
            except OSError as exc:
                sys.stderr.write('fabric.py: transmit socket send buffer not restored: %s\n' % exc)
            self.before = None

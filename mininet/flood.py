#!/usr/bin/python3
"""Packet-in flood for the control-plane test: new UDP flows from this host, as raw Ethernet frames.

  flood.py IFACE SRC_MAC SRC_IP --rate PPS --seconds S --seed N (--to MAC,IP | --random)

Every frame is the first packet of a new 5-tuple (a fresh source port, and with --random a fresh
destination address in 10.128.0.0/9 with a random unicast MAC). Frames are sent in batches paced to PPS
(AF_PACKET, no kernel ARP). Prints one JSON line at the end: {"sent": n, "failed": sends refused (ENOBUFS…,
counted in sent), "seconds": t, "end": wall-clock time of the last frame, s since the epoch}.
"""
import argparse
import json
import random
import socket
import struct
import time


def csum(b):
    if len(b) % 2:
        b += b'\0'
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    s += s >> 16
    return ~s & 0xffff


def mac(s):
    return bytes(int(x, 16) for x in s.split(':'))


def frame(src_mac, dst_mac, src_ip, dst_ip, sport, dport):
    udp = struct.pack('!HHHH', sport, dport, 8 + 18, 0) + b'rivulet-flood-test'
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0, 0, 64, 17, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return dst_mac + src_mac + b'\x08\x00' + ip + udp


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('iface')
    ap.add_argument('src_mac')
    ap.add_argument('src_ip')
    ap.add_argument('--rate', type=int, default=20000)
    ap.add_argument('--seconds', type=float, default=10)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--to')
    ap.add_argument('--random', action='store_true')
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((a.iface, 0))
    src_mac, src_ip = mac(a.src_mac), socket.inet_aton(a.src_ip)
    if a.to:
        dmac, dip = a.to.split(',')
        fixed = (mac(dmac), socket.inet_aton(dip))
    batch = max(1, a.rate // 1000)  # one batch per millisecond
    sent, failed, t0 = 0, 0, time.monotonic()
    while True:
        now = time.monotonic() - t0
        if now >= a.seconds:
            break
        due = int(now * a.rate)
        while sent < due:
            for _ in range(min(batch, due - sent)):
                if a.random:
                    dst = (bytes([0x02] + [rnd.randrange(256) for _ in range(5)]), bytes([10, 128 + rnd.randrange(128), rnd.randrange(256), 1 + rnd.randrange(254)]))
                else:
                    dst = fixed
                sport = 1024 + (sent % 64000)
                dport = 1 + (sent // 64000) % 60000
                try:
                    s.send(frame(src_mac, dst[0], src_ip, dst[1], sport, dport))
                except OSError:
                    failed += 1
                sent += 1
        time.sleep(0.0005)
    print(json.dumps({'sent': sent, 'failed': failed, 'seconds': round(time.monotonic() - t0, 3), 'end': round(time.time(), 3)}), flush=True)


if __name__ == '__main__':
    main()

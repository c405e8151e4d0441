#!/usr/bin/python3
"""Rivulet leaf-spine fabric on Mininet + Open vSwitch, and a JSON command server to drive it.

Run as root with Debian's Python (ARCHITECTURE.md "Platform facts"):

    sudo /usr/bin/python3 mininet/fabric.py --spines 2 --leaves 4 --hosts-per-leaf 2 \
        [--bw 50] [--fabric-bw MBPS] [--link-bw NAME=MBPS ...] [--shaping tclink|controller|agents] \
        [--controller tcp:127.0.0.1:6653] [--addressing flat|per-leaf] [--prefix rvabc] \
        [--ovs-tx-buffer BYTES] [--verbose]

This file is the entry point (command line, command loop, signals); the code it runs is the package
``rivulet_fabric/`` next to it: ``build.py`` (building, addressing, link shaping, topology, teardown),
``commands.py`` (the command handlers below), ``parse.py`` (ovs-ofctl / iperf3 output parsers).

What it builds
--------------
* Switches: Open vSwitch, userspace datapath (``datapath_type=netdev``: this kernel has no OVS module),
  ``protocols=OpenFlow13``, ``fail_mode=secure``, each connected to the controller given by --controller.
  No Mininet controller object is created: the controller target is set on every bridge with
  ``ovs-vsctl set-controller`` once all bridges exist, so the switches connect within a few ms of each other.
* Names carry the run's prefix so that leftovers can be found by name: spine i is ``<prefix>s<i>``,
  leaf j is ``<prefix>l<j>`` (1-based).  Hosts are ``h<n>``, numbered 1..L*H leaf by leaf; their
  interfaces live in their own network namespaces, so host names never clash between runs.
* Datapath ids (16 hex digits): spine i = 0x0000000000000100 + i, leaf j = 0x0000000000000200 + j
  (so spine 1 = 0000000000000101, leaf 3 = 0000000000000203); at most 255 spines and 255 leaves.
* Ports: leaf port k (1..S) goes to spine k; leaf port S+h (h = 1..H) goes to the leaf's host h.
  Spine port j goes to leaf j.  Every leaf therefore has S fabric ports and H edge ports.
* Host MACs: 02:00:00:00:<leaf>:<h> (locally administered, hex).
* Addressing:
    - ``flat`` (default): one subnet, 10.0.0.0/8; host n gets 10.0.<n div 256>.<n mod 256>
      (10.0.0.1 … 10.0.0.8 for the 2x4x2 demo).  Hosts ARP for each other directly.
    - ``per-leaf``: leaf j's hosts live in 10.<j>.0.0/24 (host h = 10.<j>.0.<h>).  Each host gets an
      *on-link default route* (``ip route add default dev hN-eth0``) and no gateway: for any destination,
      in its subnet or not, the host ARPs for the destination address itself, and the controller's proxy ARP
      answers with the destination host's MAC.  No router exists in the fabric; the leaves forward on the
      controller's pinned IPv4 entries.  (The alternative, a /8 on every host, would make the subnets
      nominal; the on-link route keeps them real for the hosts while needing no gateway.)
* Hosts: offloads off (``ethtool -K <intf> tx off tso off gso off gro off``; TCP stalls through the
  userspace datapath otherwise), IPv6 disabled (no router solicitations / MLD to the controller).
  The switch-side veths get the same offload settings.
* Open vSwitch's transmit socket: the userspace datapath sends every port's frames through one AF_PACKET
  socket whose send buffer the ports' queued frames fill (then OVS drops frames on every port, uncounted);
  ``--ovs-tx-buffer`` (default 16 MiB) raises it once OVS opens it and restores it at teardown
  (``rivulet_fabric/txbuf.py``; the ``topology`` command's ``ovsTxBuffer`` says what happened).
* ``--bw MBPS`` is the link rate.  ``--shaping tclink`` (default) shapes every link with Mininet's TCLink (HTB
  on both ends of each veth); do not combine it with OVS QoS on the same ports (ARCHITECTURE.md "Platform facts": one owner per
  qdisc).  ``--shaping controller`` installs NO qdisc: the links are plain veths and the controller's QoS
  app owns each switch interface's qdisc (OVS linux-htb at the link rate through OVSDB, the strict-priority
  classes, the DSCP filters); configure the controller with ``topology.defaultCapacityBps = bw``.  Host-side
  interfaces stay unshaped (hosts send at line rate; queues build in the switches).  ``--shaping agents``
  shapes leaf-spine links on both ends and host links on the LEAF end only: the host end's qdisc belongs
  to the host agent (``rivulet agent``), which shapes flowlets with HTB there (live allocation).
* ``--fabric-bw MBPS`` sets the leaf-spine links apart from ``--bw``; ``--link-bw lJ-sI=MBPS`` (leaf J to spine
  I) or ``--link-bw hN=MBPS`` (host N's link) sets one link (repeatable); the topology reports each link's
  rate (``bwMbps``).

Protocol
--------
After building, ONE JSON line is printed on stdout: ``{"event": "topology", ...}`` (see ``Fabric.topology()``
in ``rivulet_fabric/build.py``).  Then one JSON command per stdin line, one JSON answer per command on
stdout.  Commands may carry an ``id`` that is echoed back; commands run concurrently (each in its own
thread), so answers may come out of order — match them by id.  Every answer has ``ok`` (and ``error``
when false); the handlers and their answers' fields are in ``rivulet_fabric/commands.py``.

    {"id": 1, "cmd": "pingall", "timeout": 2, "parallel": false}
    {"id": 2, "cmd": "ping", "src": "h1", "dst": "h5", "count": 3, "timeout": 2, "interval": 0.2}
    {"id": 3, "cmd": "iperf3", "client": "h1", "server": "h5", "seconds": 2, "interval": 0.5,
        "port": 5301, "cport": 40001, "parallel": 1, "bandwidth": "20M", "dscp": 46}
    {"id": 4, "cmd": "link", "a": "rvabcs1", "b": "rvabcl1", "state": "down"}
    {"id": 5, "cmd": "dump-flows", "switch": "rvabcs1", "filter": "tcp"}
    {"id": 6, "cmd": "port-stats", "switch": "rvabcs1"}
    {"id": 7, "cmd": "topology"}
    {"id": 8, "cmd": "spawn", "host": "h1", "argv": ["node", "bin/rivulet.js", "agent", "..."], "log": "/tmp/a.log"}
    {"id": 9, "cmd": "signal", "pid": 1234, "signal": "KILL", "wait": 5}
    {"id": 10, "cmd": "exec", "host": "h1", "argv": ["tc", "-s", "class", "show", "dev", "h1-eth0"]}
    {"id": 11, "cmd": "stop"}

``iperf3`` takes ``bytes`` instead of ``seconds``; ``exec`` takes ``timeout`` (s, default 10: then the command
is killed and ``exitCode`` is null).  ``stop`` answers ``{"id": 11, "ok": true, "stopping": true}`` and ends
the command loop.

Teardown always runs (``stop``, stdin EOF, SIGTERM, SIGINT, SIGHUP, an exception): spawned processes get
SIGTERM and 5 s to undo their configuration, then they and every other process this script started in a
host (ping, iperf3, exec) are killed by pid, commands in flight get up to 10 s to answer, ``net.stop()``
runs, then any bridge or interface whose name starts with the prefix is deleted by name.  The last stdout
line is ``{"event": "teardown", "removed": {...}}``.
Mininet's own cleanup command is never called: it kills processes by name machine-wide.
"""

import argparse
import json
import os
import random
import re
import signal
import string
import sys
import threading
import time
import traceback

# Run as root from the repository: no root-owned __pycache__ next to the sources.
sys.dont_write_bytecode = True

from mininet.log import setLogLevel  # noqa: E402  (after dont_write_bytecode)

from rivulet_fabric.build import Fabric  # noqa: E402
from rivulet_fabric.commands import handle  # noqa: E402
from rivulet_fabric.parse import parse_json  # noqa: E402


class Stop(Exception):
    """Raised in the main thread to leave the command loop (signal or stop command)."""


def parse_args(argv):
    ap = argparse.ArgumentParser(description='Rivulet leaf-spine fabric (Mininet, OVS userspace datapath)')
    ap.add_argument('--spines', type=int, default=2)
    ap.add_argument('--leaves', type=int, default=4)
    ap.add_argument('--hosts-per-leaf', type=int, default=2)
    ap.add_argument('--bw', type=float, default=None, help='link rate in Mbit/s (TCLink); default unshaped')
    ap.add_argument('--fabric-bw', type=float, default=None, help='rate of leaf-spine links, Mbit/s (default --bw)')
    ap.add_argument('--link-bw', action='append', default=[], metavar='NAME=MBPS',
                    help='rate of one link, Mbit/s: NAME is lJ-sI (leaf J to spine I) or hN (host N\'s link); repeatable')
    ap.add_argument('--shaping', choices=('tclink', 'controller', 'agents'), default='tclink',
                    help='who shapes links at their rate: tclink = Mininet TCLink (HTB on both veth ends); '
                         'controller = no qdisc installed here, the controller\'s QoS (OVS linux-htb through '
                         'OVSDB) owns every switch interface\'s qdisc (one owner per qdisc, see ARCHITECTURE.md); '
                         'agents = TCLink on leaf-spine links and on the leaf end of host links, nothing on the '
                         'host end (the host agent\'s HTB owns it)')
    ap.add_argument('--controller', default='tcp:127.0.0.1:6653')
    ap.add_argument('--addressing', choices=('flat', 'per-leaf'), default='flat')
    ap.add_argument('--prefix', default=None,
                    help='name prefix of this run\'s switches (lowercase letters, 2-6; default rv + 3 random)')
    ap.add_argument('--ovs-tx-buffer', type=int, default=16 << 20, metavar='BYTES',
                    help='send buffer of ovs-vswitchd\'s userspace-datapath transmit socket while the fabric '
                         'runs (default 16 MiB; 0 leaves OVS\'s default): with the default 212,992 bytes, '
                         'frames queued in the ports\' qdiscs fill it and OVS drops frames on every port, '
                         'uncounted (ARCHITECTURE.md "Platform facts")')
    ap.add_argument('--verbose', action='store_true', help='Mininet info logging on stderr')
    args = ap.parse_args(argv)
    bws = {}
    for item in args.link_bw:
        m = re.fullmatch(r'(l\d+-s\d+|h\d+)=([0-9.]+)', item)
        if not m or float(m.group(2)) <= 0:
            ap.error('--link-bw %r: expected lJ-sI=MBPS or hN=MBPS with MBPS > 0' % item)
        bws[m.group(1)] = float(m.group(2))
    args.link_bw = bws
    for name in bws:
        nums = [int(x) for x in re.findall(r'\d+', name)]
        ok = (nums[0] <= args.leaves * args.hosts_per_leaf) if name[0] == 'h' else \
            (nums[0] <= args.leaves and nums[1] <= args.spines)
        if not ok or 0 in nums:
            ap.error('--link-bw %s: no such link in a %dx%dx%d fabric' % (name, args.spines, args.leaves, args.hosts_per_leaf))
    if args.ovs_tx_buffer < 0:
        ap.error('--ovs-tx-buffer must be >= 0 bytes')
    if args.prefix is None:
        args.prefix = 'rv' + ''.join(random.choice(string.ascii_lowercase) for _ in range(3))
    if not re.fullmatch(r'[a-z]{2,6}', args.prefix):
        ap.error('--prefix must be 2-6 lowercase letters')
    if not (1 <= args.spines <= 255 and 1 <= args.leaves <= 255 and 1 <= args.hosts_per_leaf <= 250):
        ap.error('spines and leaves must be in 1..255, hosts-per-leaf in 1..250')
    if args.spines + args.hosts_per_leaf > 99 or args.leaves > 99:
        ap.error('at most 99 ports per switch (interface names are limited to 15 characters)')
    return args


def main(argv):
    args = parse_args(argv)
    # Protocol on the original stdout; everything else (Mininet, child processes) goes to stderr.
    out = os.fdopen(os.dup(1), 'w')
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    setLogLevel('info' if args.verbose else 'warning')
    if os.geteuid() != 0:
        out.write(json.dumps({'event': 'error', 'error': 'fabric.py must run as root'}) + '\n')
        return 2
    fabric = Fabric(args, out)

    state = {'building': True, 'signal': None}

    def on_signal(signum, _frame):
        # Mid-build, a raise would leave Mininet's node shells half-way through a command and net.stop()
        # could not run cleanly: remember the signal and stop as soon as the build returns.
        if state['building']:
            state['signal'] = signum
            return
        raise Stop('signal %d' % signum)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, on_signal)
    code = 0
    try:
        t0 = time.time()
        fabric.build()
        state['building'] = False
        if state['signal'] is not None:
            raise Stop('signal %d during the build' % state['signal'])
        topo = fabric.topology()
        topo.update({'event': 'topology', 'buildSeconds': round(time.time() - t0, 3)})
        fabric.emit(topo)
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            req = parse_json(line)
            if not isinstance(req, dict) or 'cmd' not in req:
                fabric.emit({'ok': False, 'error': 'not a JSON command: %s' % line[:200]})
                continue
            if req['cmd'] == 'stop':
                fabric.emit({'id': req.get('id'), 'ok': True, 'stopping': True})
                break
            fabric.threads = [t for t in fabric.threads if t.is_alive()]
            thread = threading.Thread(target=handle, args=(fabric, req), daemon=True)
            fabric.threads.append(thread)
            thread.start()
    except Stop as exc:
        sys.stderr.write('fabric.py: %s, tearing down\n' % exc)
    except Exception as exc:
        traceback.print_exc(file=sys.stderr)
        fabric.emit({'event': 'error', 'error': '%s: %s' % (type(exc).__name__, exc)})
        code = 1
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)  # teardown must not be interrupted half-way
        removed = fabric.teardown()
        fabric.emit({'event': 'teardown', 'removed': removed})
    return code


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

"""The Fabric: builds the Mininet leaf-spine network, describes it, owns its processes, tears it down.

What gets built (names, datapath ids, ports, MACs, addressing, link shaping) is documented in fabric.py's
module docstring; this module implements it.  The command handlers that drive a built fabric are in
``commands.py``; they use the lookups (``host``, ``switch``) and the process bookkeeping (``popen``,
``reap``, ``spawned``) kept here, so that ``teardown`` knows every process to stop.

Teardown guarantees: spawned processes get SIGTERM first, then every process started here is killed by
its pid, ``net.stop()`` runs, and only bridges and interfaces whose names start with this run's prefix
are deleted.  Mininet's own cleanup command is never called, and nothing is killed by name.
"""

import json
import subprocess
import sys
import threading
import time
import traceback

from mininet.link import Intf, Link, TCIntf, TCLink
from mininet.net import Mininet
from mininet.node import OVSSwitch

from .parse import link_names, run
from .txbuf import TxBuffer

SPINE_DPID_BASE = 0x100
LEAF_DPID_BASE = 0x200
IPERF_PORT_BASE = 5201


class Fabric:
    """A leaf-spine fabric: builds the Mininet network and holds the state the commands work on."""

    def __init__(self, args, out):
        self.args = args
        self.prefix = args.prefix
        self.out = out
        self.out_lock = threading.Lock()
        self.link_lock = threading.Lock()
        self.proc_lock = threading.Lock()
        self.procs = {}  # pid -> Popen, every process this script started in a host
        self.spawned = {}  # pid -> Popen, long-running processes of `spawn` (SIGTERM first at teardown)
        self.next_port = IPERF_PORT_BASE
        self.net = None
        self.spines = []
        self.leaves = []
        self.hosts = []  # dicts: name, mac, ip, prefixLen, leaf, port
        self.torn_down = False
        self.threads = []  # command threads in flight
        self.tx_buffer = TxBuffer(args.ovs_tx_buffer)

    # ----------------------------------------------------------------------------------------- output
    def emit(self, obj):
        """Writes one JSON line on the protocol stream (thread-safe)."""
        line = json.dumps(obj, separators=(',', ':'))
        with self.out_lock:
            self.out.write(line + '\n')
            self.out.flush()

    # ------------------------------------------------------------------------------------------ build
    def link_bw(self, name, edge):
        """Rate of a link in Mbit/s (None = unshaped): --link-bw, else --fabric-bw (leaf-spine), else --bw."""
        a = self.args
        return a.link_bw.get(name, a.fabric_bw if (not edge and a.fabric_bw) else a.bw)

    def link_opts(self, name, edge):
        """addLink options of one link: `name` is its unprefixed name (``l1-s2`` or ``h3``), `edge` is True for
        a host link (leaf end first).  Rate: --link-bw for that name, else --fabric-bw for leaf-spine links,
        else --bw.  tclink shapes both ends; agents shapes fabric links on both ends and host links on the
        leaf end only (the host end belongs to the host agent's HTB); controller installs no qdisc."""
        a = self.args
        bw = self.link_bw(name, edge)
        if not bw or a.shaping == 'controller':
            return {'cls': Link}
        if a.shaping == 'agents' and edge:
            return {'cls': Link, 'cls1': TCIntf, 'cls2': Intf, 'params1': {'bw': bw}}
        return {'cls': TCLink, 'bw': bw}

    def build(self):
        a = self.args
        net = Mininet(topo=None, controller=None, switch=OVSSwitch, link=Link, build=False,
                      autoSetMacs=False, autoStaticArp=False, cleanup=False)
        self.net = net
        sw_opts = dict(cls=OVSSwitch, datapath='user', protocols='OpenFlow13', failMode='secure')
        for i in range(1, a.spines + 1):
            self.spines.append(net.addSwitch('%ss%d' % (self.prefix, i),
                                             dpid='%016x' % (SPINE_DPID_BASE + i), **sw_opts))
        for j in range(1, a.leaves + 1):
            self.leaves.append(net.addSwitch('%sl%d' % (self.prefix, j),
                                             dpid='%016x' % (LEAF_DPID_BASE + j), **sw_opts))
        for j, leaf in enumerate(self.leaves, start=1):
            for i, spine in enumerate(self.spines, start=1):
                net.addLink(leaf, spine, port1=i, port2=j, **self.link_opts('l%d-s%d' % (j, i), False))
        n = 0
        for j, leaf in enumerate(self.leaves, start=1):
            for h in range(1, a.hosts_per_leaf + 1):
                n += 1
                ip, plen = self.address(n, j, h)
                mac = '02:00:00:00:%02x:%02x' % (j, h)
                host = net.addHost('h%d' % n, ip='%s/%d' % (ip, plen), mac=mac)
                port = a.spines + h
                net.addLink(leaf, host, port1=port, port2=0, **self.link_opts('h%d' % n, True))
                self.hosts.append({'name': host.name, 'mac': mac, 'ip': ip, 'prefixLen': plen,
                                   'leaf': leaf.name, 'port': port})
        net.build()
        net.start()  # no controllers: the bridges come up in fail_mode=secure and wait
        self.configure_hosts()
        self.configure_switch_intfs()
        for sw in self.spines + self.leaves:
            run(['ovs-vsctl', '--timeout=10', 'set-controller', sw.name, a.controller], check=True)
        self.tx_buffer.start()  # OVS opens its transmit socket at its first transmit (the first LLDP probe)

    def address(self, n, leaf, h):
        if self.args.addressing == 'per-leaf':
            return '10.%d.0.%d' % (leaf, h), 24
        return '10.0.%d.%d' % (n // 256, n % 256), 8

    def configure_hosts(self):
        for info in self.hosts:
            host = self.net.get(info['name'])
            intf = host.defaultIntf().name
            host.cmd('sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1')
            host.cmd('ethtool -K %s tx off tso off gso off gro off' % intf)
            if self.args.addressing == 'per-leaf':
                host.cmd('ip route replace default dev %s' % intf)

    def configure_switch_intfs(self):
        for sw in self.spines + self.leaves:
            for intf in sw.intfList():
                if intf.name == 'lo' or not intf.name.startswith(self.prefix):
                    continue
                run(['ethtool', '-K', intf.name, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off'])
                run(['sysctl', '-qw', 'net.ipv6.conf.%s.disable_ipv6=1' % intf.name])

    def topology(self):
        """The fabric as JSON: the first stdout line (with ``event`` and ``buildSeconds``) and `topology`."""
        sws = [{'name': s.name, 'dpid': s.dpid, 'role': 'spine', 'index': i}
               for i, s in enumerate(self.spines, start=1)]
        sws += [{'name': s.name, 'dpid': s.dpid, 'role': 'leaf', 'index': j}
                for j, s in enumerate(self.leaves, start=1)]
        links = []
        for j, leaf in enumerate(self.leaves, start=1):
            for i, spine in enumerate(self.spines, start=1):
                links.append({'a': {'name': leaf.name, 'dpid': leaf.dpid, 'port': i},
                              'b': {'name': spine.name, 'dpid': spine.dpid, 'port': j},
                              'bwMbps': self.link_bw('l%d-s%d' % (j, i), False)})
        hosts = []
        for info in self.hosts:
            leaf = self.net.get(info['leaf'])
            hosts.append({'name': info['name'], 'mac': info['mac'], 'ip': info['ip'],
                          'prefixLen': info['prefixLen'], 'leaf': info['leaf'],
                          'bwMbps': self.link_bw(info['name'], True),
                          'attachment': {'name': leaf.name, 'dpid': leaf.dpid, 'port': info['port']}})
        return {'prefix': self.prefix, 'spines': len(self.spines), 'leaves': len(self.leaves),
                'hostsPerLeaf': self.args.hosts_per_leaf, 'addressing': self.args.addressing,
                'bwMbps': self.args.bw, 'shaping': self.args.shaping, 'controller': self.args.controller,
                'switches': sws, 'links': links, 'hosts': hosts, 'ovsTxBuffer': self.tx_buffer.state()}

    # ------------------------------------------------------------------------------- nodes, processes
    def host(self, name):
        if not isinstance(name, str) or name not in self.net or name not in [h['name'] for h in self.hosts]:
            raise ValueError('unknown host %r' % (name,))
        return self.net.get(name)

    def switch(self, name):
        if not any(s.name == name for s in self.spines + self.leaves):
            raise ValueError('unknown switch %r' % (name,))
        return self.net.get(name)

    def popen(self, host, argv):
        """Starts argv in a host with stdout/stderr piped, recorded for teardown until `reap`ed."""
        with self.proc_lock:
            if self.torn_down:
                raise RuntimeError('the fabric is being torn down')
            p = host.popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.procs[p.pid] = p
        return p

    def reap(self, p, timeout):
        """Waits for p; kills it by pid after `timeout` seconds. Returns (stdout, stderr, killed)."""
        killed = False
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            killed = True
            p.kill()
            out, err = p.communicate()
        with self.proc_lock:
            self.procs.pop(p.pid, None)
        return out.decode(errors='replace'), err.decode(errors='replace'), killed

    def alloc_port(self):
        """The next free iperf3 port (from 5201) for an iperf3 command without `port`."""
        with self.proc_lock:
            port = self.next_port
            self.next_port += 1
            return port

    # --------------------------------------------------------------------------------------- teardown
    def teardown(self):
        """Stops everything this run started; returns {processes, bridges, interfaces} removed, or None when
        already torn down."""
        removed = {'processes': [], 'bridges': [], 'interfaces': []}
        with self.proc_lock:
            if self.torn_down:
                return None
            self.torn_down = True
            procs = list(self.procs.values())
            self.procs.clear()
            spawned = list(self.spawned.values())
            self.spawned.clear()
        # spawned processes (host agents) get SIGTERM and 5 s to undo what they configured, then SIGKILL
        for p in spawned:
            if p.poll() is None:
                try:
                    p.terminate()
                except OSError:
                    pass
        for p in spawned:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            procs.append(p)
        for p in procs:
            if p.poll() is None:
                try:
                    p.kill()
                    removed['processes'].append(p.pid)
                except OSError:
                    pass
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        # commands in flight answer (with an error, their processes being gone) before the network goes
        deadline = time.time() + 10
        for t in list(self.threads):
            t.join(max(0.0, deadline - time.time()))
        if self.net is not None:
            with self.link_lock:
                try:
                    self.net.stop()
                except Exception:
                    traceback.print_exc(file=sys.stderr)
                    for node in self.net.hosts + self.net.switches:  # shells by their pids
                        try:
                            node.terminate()
                        except Exception:
                            traceback.print_exc(file=sys.stderr)
        self.tx_buffer.restore()
        for br in run(['ovs-vsctl', '--timeout=10', 'list-br']).split():
            if br.startswith(self.prefix):
                run(['ovs-vsctl', '--timeout=10', '--if-exists', 'del-br', br])
                removed['bridges'].append(br)
        for name in link_names():
            if name.startswith(self.prefix):
                run(['ip', 'link', 'del', name])
                removed['interfaces'].append(name)
        return removed

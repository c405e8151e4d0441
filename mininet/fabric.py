#!/usr/bin/python3
"""Rivulet leaf-spine fabric on Mininet + Open vSwitch, and a JSON command server to drive it.

Run as root with Debian's Python (DESIGN §1, §4):

    sudo /usr/bin/python3 mininet/fabric.py --spines 2 --leaves 4 --hosts-per-leaf 2 \
        [--bw 50] [--shaping tclink|controller] [--controller tcp:127.0.0.1:6653] [--addressing flat|per-leaf] [--prefix rvabc]

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
* ``--bw MBPS`` is the link rate.  ``--shaping tclink`` (default) shapes every link with Mininet's TCLink (HTB
  on both ends of each veth); do not combine it with OVS QoS on the same ports (DESIGN §4: one owner per
  qdisc).  ``--shaping controller`` installs NO qdisc: the links are plain veths and the controller's QoS
  app owns each switch interface's qdisc (OVS linux-htb at the link rate through OVSDB, the strict-priority
  classes, the DSCP filters); configure the controller with ``topology.defaultCapacityBps = bw``.  Host-side
  interfaces stay unshaped (hosts send at line rate; queues build in the switches).  ``--shaping agents``
  shapes leaf-spine links on both ends and host links on the LEAF end only: the host end's qdisc belongs
  to the host agent (``rivulet agent``), which shapes flowlets with HTB there (issue 6).
* ``--fabric-bw MBPS`` sets the leaf-spine links apart from ``--bw``; ``--link-bw lJ-sI=MBPS`` (leaf J to spine
  I) or ``--link-bw hN=MBPS`` (host N's link) sets one link (repeatable); topology() reports each link's rate.

Protocol
--------
After building, ONE JSON line is printed on stdout: ``{"event": "topology", ...}`` (see ``topology()``).
Then one JSON command per stdin line, one JSON answer per command on stdout.  Commands may carry an
``id`` that is echoed back; commands run concurrently (each in its own thread), so answers may come out
of order — match them by id.  Every answer has ``ok`` (and ``error`` when false).

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

Teardown always runs (``stop``, stdin EOF, SIGTERM, SIGINT, SIGHUP, an exception): spawned processes get
SIGTERM and 5 s to undo their configuration, then they and the iperf3 processes this script started are
killed by pid, ``net.stop()`` runs, then any bridge or interface whose name starts with
the prefix is deleted by name.  The last stdout line is ``{"event": "teardown", "removed": {...}}``.
Mininet's own cleanup command is never called: it kills processes by name machine-wide.
"""

import argparse
import json
import os
import random
import re
import signal
import string
import subprocess
import sys
import threading
import time
import traceback

from mininet.link import Intf, Link, TCIntf, TCLink
from mininet.log import setLogLevel
from mininet.net import Mininet
from mininet.node import OVSSwitch

SPINE_DPID_BASE = 0x100
LEAF_DPID_BASE = 0x200
IPERF_PORT_BASE = 5201


class Stop(Exception):
    """Raised in the main thread to leave the command loop (signal or stop command)."""


class Fabric:
    """A leaf-spine fabric: builds the Mininet network and answers commands about it."""

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

    # ----------------------------------------------------------------------------------------- output
    def emit(self, obj):
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
            run(['ovs-vsctl', '--timeout=10', 'set-controller', sw.name, a.controller])

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
                'switches': sws, 'links': links, 'hosts': hosts}

    # --------------------------------------------------------------------------------------- commands
    def host(self, name):
        if not isinstance(name, str) or name not in self.net or name not in [h['name'] for h in self.hosts]:
            raise ValueError('unknown host %r' % (name,))
        return self.net.get(name)

    def switch(self, name):
        if not any(s.name == name for s in self.spines + self.leaves):
            raise ValueError('unknown switch %r' % (name,))
        return self.net.get(name)

    def popen(self, host, argv):
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

    def cmd_pingall(self, req):
        timeout = float(req.get('timeout', 2))
        parallel = bool(req.get('parallel', False))
        ips = {h['name']: h['ip'] for h in self.hosts}

        def loop(src):
            script = ''.join('ping -n -q -c1 -W%g %s >/dev/null 2>&1 && echo "%s 1" || echo "%s 0"\n'
                             % (timeout, ips[d], d, d) for d in ips if d != src)
            return self.popen(self.host(src), ['sh', '-c', script])

        results = []
        limit = timeout * len(ips) + 30
        if parallel:
            procs = [(src, loop(src)) for src in ips]
            outs = [(src, self.reap(p, limit)[0]) for src, p in procs]
        else:
            outs = [(src, self.reap(loop(src), limit)[0]) for src in ips]
        for src, out in outs:
            for line in out.split('\n'):
                if line.strip():
                    dst, ok = line.split()
                    results.append({'src': src, 'dst': dst, 'ok': ok == '1'})
        sent = len(results)
        lost = sum(1 for r in results if not r['ok'])
        return {'sent': sent, 'received': sent - lost, 'lossPct': 100.0 * lost / sent if sent else 0.0,
                'failed': [r for r in results if not r['ok']]}

    def cmd_ping(self, req):
        src, dst = self.host(req['src']), self.host(req['dst'])
        count = int(req.get('count', 3))
        timeout = float(req.get('timeout', 2))
        interval = float(req.get('interval', 0.2))
        argv = ['ping', '-n', '-c', str(count), '-i', '%g' % interval, '-W', '%g' % timeout, dst.IP()]
        out, _err, _k = self.reap(self.popen(src, argv), count * (interval + timeout) + 10)
        m = re.search(r'(\d+) packets transmitted, (\d+) received', out)
        sent, recv = (int(m.group(1)), int(m.group(2))) if m else (count, 0)
        rtt = re.search(r'= [\d.]+/([\d.]+)/', out)
        return {'sent': sent, 'received': recv, 'lossPct': 100.0 * (sent - recv) / sent if sent else 100.0,
                'rttAvgMs': float(rtt.group(1)) if rtt else None}

    def alloc_port(self):
        with self.proc_lock:
            port = self.next_port
            self.next_port += 1
            return port

    def wait_listening(self, host, port, timeout):
        deadline = time.time() + timeout
        while time.time() < deadline:
            out, _e, _k = self.reap(self.popen(host, ['ss', '-Htln', 'sport = :%d' % port]), 5)
            if out.strip():
                return True
            time.sleep(0.03)
        return False

    def cmd_iperf3(self, req):
        client, server = self.host(req['client']), self.host(req['server'])
        port = int(req.get('port') or self.alloc_port())
        interval = float(req.get('interval', 0.5))
        srv = self.popen(server, ['iperf3', '-s', '-1', '-J', '-p', str(port), '-i', '%g' % interval])
        try:
            if not self.wait_listening(server, port, 5):
                raise RuntimeError('iperf3 server on %s:%d did not start listening' % (server.name, port))
            argv = ['iperf3', '-c', server.IP(), '-p', str(port), '-J', '-i', '%g' % interval,
                    '--connect-timeout', '3000']
            if req.get('bytes'):
                argv += ['-n', str(req['bytes'])]
            else:
                argv += ['-t', str(int(req.get('seconds', 2)))]
            for key, flag in (('parallel', '-P'), ('bandwidth', '-b'), ('dscp', '--dscp'), ('cport', '--cport')):
                if req.get(key) is not None:
                    argv += [flag, str(req[key])]
            limit = float(req.get('seconds', 2)) + 30
            started = time.time()
            cout, cerr, ckilled = self.reap(self.popen(client, argv), limit)
            sout, _serr, _sk = self.reap(srv, 10)
        finally:
            if srv.poll() is None:
                srv.kill()
                self.reap(srv, 5)
        cj = parse_json(cout)
        sj = parse_json(sout)
        if cj is None or 'error' in cj:
            raise RuntimeError('iperf3 %s -> %s failed%s: %s' % (
                client.name, server.name, ' (killed after timeout)' if ckilled else '',
                (cj or {}).get('error') or cerr.strip() or cout.strip()[:300]))
        end = cj.get('end', {})
        return {
            'client': client.name, 'server': server.name, 'port': port, 'clientStartedAt': started,
            'streams': [{'localIp': c.get('local_host'), 'localPort': c.get('local_port'),
                         'remoteIp': c.get('remote_host'), 'remotePort': c.get('remote_port')}
                        for c in cj.get('start', {}).get('connected', [])],
            'intervals': intervals(cj),
            'serverIntervals': intervals(sj) if sj else [],
            'sent': summary(end.get('sum_sent')),
            'received': summary(end.get('sum_received')),
        }

    def cmd_link(self, req):
        a, b, state = req['a'], req['b'], req['state']
        if state not in ('up', 'down'):
            raise ValueError('state must be up or down')
        na, nb = self.switch(a), self.switch(b)
        if not self.net.linksBetween(na, nb):
            raise ValueError('no link between %s and %s' % (a, b))
        with self.link_lock:
            self.net.configLinkStatus(a, b, state)
        return {'a': a, 'b': b, 'state': state, 'at': time.time()}

    def cmd_dump_flows(self, req):
        sw = self.switch(req['switch'])
        argv = ['ovs-ofctl', '-O', 'OpenFlow13', 'dump-flows', sw.name]
        if req.get('filter'):
            argv.append(req['filter'])
        text = run(argv, check=True)
        return {'switch': sw.name, 'flows': parse_flows(text), 'text': text}

    def cmd_port_stats(self, req):
        sw = self.switch(req['switch'])
        text = run(['ovs-ofctl', '-O', 'OpenFlow13', 'dump-ports', sw.name], check=True)
        return {'switch': sw.name, 'ports': parse_ports(text)}

    def cmd_spawn(self, req):
        """Starts a long-running process in a host (a host agent, a traffic source); stdout and stderr go to
        the file `log` (default /dev/null).  Answers its pid; `signal` stops it, teardown SIGTERMs it."""
        host = self.host(req['host'])
        argv = req['argv']
        if not isinstance(argv, list) or not argv or not all(isinstance(x, str) for x in argv):
            raise ValueError('argv must be a non-empty list of strings')
        log = open(req.get('log') or os.devnull, 'ab')
        try:
            with self.proc_lock:
                if self.torn_down:
                    raise RuntimeError('the fabric is being torn down')
                p = host.popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
                self.spawned[p.pid] = p
        finally:
            log.close()
        return {'host': host.name, 'pid': p.pid, 'at': time.time()}

    def cmd_signal(self, req):
        """Sends `signal` (TERM, KILL, INT, STOP, CONT; default TERM) to a process started by `spawn`;
        with `wait` (s), waits for it to exit and answers its exit code."""
        pid = int(req['pid'])
        with self.proc_lock:
            p = self.spawned.get(pid)
        if p is None:
            raise ValueError('no process %d was spawned here' % pid)
        name = str(req.get('signal', 'TERM')).upper()
        if name not in ('TERM', 'KILL', 'INT', 'STOP', 'CONT'):
            raise ValueError('unsupported signal %r' % name)
        if p.poll() is None:
            p.send_signal(getattr(signal, 'SIG' + name))
        code = None
        if req.get('wait'):
            try:
                code = p.wait(timeout=float(req['wait']))
            except subprocess.TimeoutExpired:
                code = None
        if p.poll() is not None:
            with self.proc_lock:
                self.spawned.pop(pid, None)
            code = p.returncode
        return {'pid': pid, 'signal': name, 'exitCode': code, 'at': time.time()}

    def cmd_exec(self, req):
        """Runs a short command (argv) in a host and answers its exit code, stdout and stderr."""
        host = self.host(req['host'])
        argv = req['argv']
        if not isinstance(argv, list) or not argv or not all(isinstance(x, str) for x in argv):
            raise ValueError('argv must be a non-empty list of strings')
        p = self.popen(host, argv)
        out, err, killed = self.reap(p, float(req.get('timeout', 10)))
        return {'host': host.name, 'exitCode': None if killed else p.returncode, 'stdout': out, 'stderr': err}

    def cmd_topology(self, _req):
        return self.topology()

    def handle(self, req):
        rid = req.get('id') if isinstance(req, dict) else None
        try:
            name = req['cmd'].replace('-', '_')
            fn = getattr(self, 'cmd_' + name, None)
            if fn is None:
                raise ValueError('unknown command %r' % (req['cmd'],))
            res = fn(req)
            res.update({'id': rid, 'ok': True})
        except Exception as exc:  # answered, never swallowed silently
            res = {'id': rid, 'ok': False, 'error': '%s: %s' % (type(exc).__name__, exc)}
            traceback.print_exc(file=sys.stderr)
        self.emit(res)

    # --------------------------------------------------------------------------------------- teardown
    def teardown(self):
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
        for br in run(['ovs-vsctl', '--timeout=10', 'list-br']).split():
            if br.startswith(self.prefix):
                run(['ovs-vsctl', '--timeout=10', '--if-exists', 'del-br', br])
                removed['bridges'].append(br)
        for name in link_names():
            if name.startswith(self.prefix):
                run(['ip', 'link', 'del', name])
                removed['interfaces'].append(name)
        return removed


# ------------------------------------------------------------------------------------------- helpers
def run(argv, check=False):
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise RuntimeError('%s failed: %s' % (' '.join(argv), p.stderr.strip()))
    return p.stdout


def link_names():
    names = []
    for line in run(['ip', '-o', 'link', 'show']).split('\n'):
        m = re.match(r'\d+:\s+([^:@\s]+)', line)
        if m:
            names.append(m.group(1))
    return names


def parse_json(text):
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None


def intervals(j):
    res = []
    for iv in j.get('intervals', []):
        s = iv.get('sum', {})
        res.append({'start': s.get('start'), 'end': s.get('end'), 'bytes': s.get('bytes'),
                    'bps': s.get('bits_per_second')})
    return res


def summary(s):
    if not s:
        return None
    return {'seconds': s.get('seconds'), 'bytes': s.get('bytes'), 'bps': s.get('bits_per_second'),
            'retransmits': s.get('retransmits')}


def parse_flows(text):
    """ovs-ofctl dump-flows lines -> [{cookie, table, priority, nPackets, nBytes, match: {..}, actions}]."""
    flows = []
    for line in text.split('\n'):
        line = line.strip()
        if not line.startswith('cookie=') or ' actions=' not in line:
            continue
        head, actions = line.split(' actions=', 1)
        fields = {}
        for tok in re.split(r'[,\s]+', head):  # "idle_timeout=10, send_flow_rem priority=1000,tcp,…"
            if not tok:
                continue
            key, _sep, val = tok.partition('=')
            fields[key] = val if _sep else True
        stats = {k: fields.pop(k) for k in ('cookie', 'duration', 'table', 'n_packets', 'n_bytes',
                                            'idle_timeout', 'hard_timeout', 'idle_age', 'hard_age',
                                            'priority', 'reset_counts', 'send_flow_rem')
                 if k in fields}
        flows.append({'cookie': stats.get('cookie'), 'table': int(stats.get('table', 0)),
                      'priority': int(stats.get('priority', 32768)),
                      'nPackets': int(stats.get('n_packets', 0)), 'nBytes': int(stats.get('n_bytes', 0)),
                      'idleTimeout': int(stats['idle_timeout']) if 'idle_timeout' in stats else None,
                      'match': fields, 'actions': actions})
    return flows


def parse_ports(text):
    """ovs-ofctl dump-ports -> [{port, rxPackets, rxBytes, rxDropped, txPackets, txBytes, txDropped}]."""
    ports = []
    cur = None
    for line in text.split('\n'):
        m = re.match(r'\s*port\s+"?([^:"]+)"?:\s*rx pkts=(\d+|\?), bytes=(\d+|\?), drop=(\d+|\?)', line)
        if m:
            cur = {'port': m.group(1).strip(), 'rxPackets': num(m.group(2)), 'rxBytes': num(m.group(3)),
                   'rxDropped': num(m.group(4))}
            ports.append(cur)
            continue
        m = re.match(r'\s*tx pkts=(\d+|\?), bytes=(\d+|\?), drop=(\d+|\?)', line)
        if m and cur is not None:
            cur.update({'txPackets': num(m.group(1)), 'txBytes': num(m.group(2)), 'txDropped': num(m.group(3))})
    for p in ports:
        if p['port'].isdigit():
            p['port'] = int(p['port'])
    return ports


def num(s):
    return None if s == '?' else int(s)


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
                         'OVSDB) owns every switch interface\'s qdisc (DESIGN section 4: one owner per qdisc); '
                         'agents = TCLink on leaf-spine links and on the leaf end of host links, nothing on the '
                         'host end (the host agent\'s HTB owns it)')
    ap.add_argument('--controller', default='tcp:127.0.0.1:6653')
    ap.add_argument('--addressing', choices=('flat', 'per-leaf'), default='flat')
    ap.add_argument('--prefix', default=None,
                    help='name prefix of this run\'s switches (lowercase letters, 2-6; default rv + 3 random)')
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
            thread = threading.Thread(target=fabric.handle, args=(req,), daemon=True)
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

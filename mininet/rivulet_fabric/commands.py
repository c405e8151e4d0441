"""The JSON command handlers of fabric.py and their dispatch.

Each handler takes the Fabric (``build.py``) and the request dict, and returns the answer's fields;
``handle`` adds ``id`` and ``ok`` (or answers ``ok: false`` with ``error`` when the handler raised) and
writes the answer line.  The requests are documented in fabric.py's module docstring; the TypeScript
client is testing/mininet.ts.  ``stop`` is not here: the command loop in fabric.py's main() answers
it and leaves the loop.
"""

import os
import re
import signal
import subprocess
import sys
import time
import traceback

from .parse import intervals, parse_flows, parse_json, parse_ports, run, summary


def _argv(req):
    argv = req['argv']
    if not isinstance(argv, list) or not argv or not all(isinstance(x, str) for x in argv):
        raise ValueError('argv must be a non-empty list of strings')
    return argv


def cmd_pingall(fab, req):
    """Every host pings every other host once (one shell loop per source host, in turn or in parallel)."""
    timeout = float(req.get('timeout', 2))
    parallel = bool(req.get('parallel', False))
    ips = {h['name']: h['ip'] for h in fab.hosts}

    def loop(src):
        script = ''.join('ping -n -q -c1 -W%g %s >/dev/null 2>&1 && echo "%s 1" || echo "%s 0"\n'
                         % (timeout, ips[d], d, d) for d in ips if d != src)
        return fab.popen(fab.host(src), ['sh', '-c', script])

    results = []
    limit = timeout * len(ips) + 30
    if parallel:
        procs = [(src, loop(src)) for src in ips]
        outs = [(src, fab.reap(p, limit)[0]) for src, p in procs]
    else:
        outs = [(src, fab.reap(loop(src), limit)[0]) for src in ips]
    for src, out in outs:
        for line in out.split('\n'):
            if line.strip():
                dst, ok = line.split()
                results.append({'src': src, 'dst': dst, 'ok': ok == '1'})
    sent = len(results)
    lost = sum(1 for r in results if not r['ok'])
    return {'sent': sent, 'received': sent - lost, 'lossPct': 100.0 * lost / sent if sent else 0.0,
            'failed': [r for r in results if not r['ok']]}


def cmd_ping(fab, req):
    src, dst = fab.host(req['src']), fab.host(req['dst'])
    count = int(req.get('count', 3))
    timeout = float(req.get('timeout', 2))
    interval = float(req.get('interval', 0.2))
    argv = ['ping', '-n', '-c', str(count), '-i', '%g' % interval, '-W', '%g' % timeout, dst.IP()]
    out, _err, _k = fab.reap(fab.popen(src, argv), count * (interval + timeout) + 10)
    m = re.search(r'(\d+) packets transmitted, (\d+) received', out)
    sent, recv = (int(m.group(1)), int(m.group(2))) if m else (count, 0)
    rtt = re.search(r'= [\d.]+/([\d.]+)/', out)
    return {'sent': sent, 'received': recv, 'lossPct': 100.0 * (sent - recv) / sent if sent else 100.0,
            'rttAvgMs': float(rtt.group(1)) if rtt else None}


def wait_listening(fab, host, port, timeout):
    """Polls `ss` in the host until a TCP socket listens on `port`; False after `timeout` seconds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        out, _e, _k = fab.reap(fab.popen(host, ['ss', '-Htln', 'sport = :%d' % port]), 5)
        if out.strip():
            return True
        time.sleep(0.03)
    return False


def cmd_iperf3(fab, req):
    """One iperf3 run (server -1 in `server`, client in `client`), both sides' JSON reduced to intervals."""
    client, server = fab.host(req['client']), fab.host(req['server'])
    port = int(req.get('port') or fab.alloc_port())
    interval = float(req.get('interval', 0.5))
    srv = fab.popen(server, ['iperf3', '-s', '-1', '-J', '-p', str(port), '-i', '%g' % interval])
    try:
        if not wait_listening(fab, server, port, 5):
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
        cout, cerr, ckilled = fab.reap(fab.popen(client, argv), limit)
        sout, _serr, _sk = fab.reap(srv, 10)
    finally:
        if srv.poll() is None:
            srv.kill()
            fab.reap(srv, 5)
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


def cmd_link(fab, req):
    """Sets a switch-to-switch link up or down (both ends, Mininet's configLinkStatus)."""
    a, b, state = req['a'], req['b'], req['state']
    if state not in ('up', 'down'):
        raise ValueError('state must be up or down')
    na, nb = fab.switch(a), fab.switch(b)
    if not fab.net.linksBetween(na, nb):
        raise ValueError('no link between %s and %s' % (a, b))
    with fab.link_lock:
        fab.net.configLinkStatus(a, b, state)
    return {'a': a, 'b': b, 'state': state, 'at': time.time()}


def cmd_dump_flows(fab, req):
    sw = fab.switch(req['switch'])
    argv = ['ovs-ofctl', '-O', 'OpenFlow13', 'dump-flows', sw.name]
    if req.get('filter'):
        argv.append(req['filter'])
    text = run(argv, check=True)
    return {'switch': sw.name, 'flows': parse_flows(text), 'text': text}


def cmd_port_stats(fab, req):
    sw = fab.switch(req['switch'])
    text = run(['ovs-ofctl', '-O', 'OpenFlow13', 'dump-ports', sw.name], check=True)
    return {'switch': sw.name, 'ports': parse_ports(text)}


def cmd_spawn(fab, req):
    """Starts a long-running process in a host (a host agent, a traffic source); stdout and stderr go to
    the file `log` (default /dev/null).  Answers its pid; `signal` stops it, teardown SIGTERMs it."""
    host = fab.host(req['host'])
    argv = _argv(req)
    log = open(req.get('log') or os.devnull, 'ab')
    try:
        with fab.proc_lock:
            if fab.torn_down:
                raise RuntimeError('the fabric is being torn down')
            p = host.popen(argv, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            fab.spawned[p.pid] = p
    finally:
        log.close()
    return {'host': host.name, 'pid': p.pid, 'at': time.time()}


def cmd_signal(fab, req):
    """Sends `signal` (TERM, KILL, INT, STOP, CONT; default TERM) to a process started by `spawn`;
    with `wait` (s), waits for it to exit and answers its exit code."""
    pid = int(req['pid'])
    with fab.proc_lock:
        p = fab.spawned.get(pid)
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
        with fab.proc_lock:
            fab.spawned.pop(pid, None)
        code = p.returncode
    return {'pid': pid, 'signal': name, 'exitCode': code, 'at': time.time()}


def cmd_exec(fab, req):
    """Runs a short command (argv) in a host and answers its exit code, stdout and stderr."""
    host = fab.host(req['host'])
    argv = _argv(req)
    p = fab.popen(host, argv)
    out, err, killed = fab.reap(p, float(req.get('timeout', 10)))
    return {'host': host.name, 'exitCode': None if killed else p.returncode, 'stdout': out, 'stderr': err}


def cmd_topology(fab, _req):
    return fab.topology()


# request "cmd" (with '-' read as '_') -> handler
COMMANDS = {
    'pingall': cmd_pingall,
    'ping': cmd_ping,
    'iperf3': cmd_iperf3,
    'link': cmd_link,
    'dump_flows': cmd_dump_flows,
    'port_stats': cmd_port_stats,
    'spawn': cmd_spawn,
    'signal': cmd_signal,
    'exec': cmd_exec,
    'topology': cmd_topology,
}


def handle(fab, req):
    """Runs one command and emits its answer (the target of each command thread)."""
    rid = req.get('id') if isinstance(req, dict) else None
    try:
        name = req['cmd'].replace('-', '_')
        fn = COMMANDS.get(name)
        if fn is None:
            raise ValueError('unknown command %r' % (req['cmd'],))
        res = fn(fab, req)
        res.update({'id': rid, 'ok': True})
    except Exception as exc:  # answered, never swallowed silently
        res = {'id': rid, 'ok': False, 'error': '%s: %s' % (type(exc).__name__, exc)}
        traceback.print_exc(file=sys.stderr)
    fab.emit(res)

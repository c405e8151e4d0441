"""Parsers of tool output (ovs-ofctl dump-flows / dump-ports, iperf3 -J) and small shell helpers.

Pure functions apart from ``run`` and ``link_names``, which run a command in the root namespace.
The shapes returned here are part of fabric.py's JSON protocol (testing/mininet.ts reads them):
change none of their keys.
"""

import json
import re
import subprocess


# --------------------------------------------------------------------------------------------- shell
def run(argv, check=False):
    """Runs argv (no shell) and returns its stdout; with `check`, raises RuntimeError on a non-zero exit."""
    p = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check and p.returncode != 0:
        raise RuntimeError('%s failed: %s' % (' '.join(argv), p.stderr.strip()))
    return p.stdout


def link_names():
    """Names of the root namespace's network interfaces (``ip -o link show``, without ``@peer``)."""
    names = []
    for line in run(['ip', '-o', 'link', 'show']).split('\n'):
        m = re.match(r'\d+:\s+([^:@\s]+)', line)
        if m:
            names.append(m.group(1))
    return names


# ---------------------------------------------------------------------------------------------- JSON
def parse_json(text):
    """The JSON value in `text`, or None when it is blank or not JSON."""
    try:
        return json.loads(text) if text.strip() else None
    except ValueError:
        return None


# -------------------------------------------------------------------------------------------- iperf3
def intervals(j):
    """iperf3 -J result -> [{start, end, bytes, bps}], one per reporting interval (the ``sum`` of streams)."""
    res = []
    for iv in j.get('intervals', []):
        s = iv.get('sum', {})
        res.append({'start': s.get('start'), 'end': s.get('end'), 'bytes': s.get('bytes'),
                    'bps': s.get('bits_per_second')})
    return res


def summary(s):
    """iperf3 -J ``end.sum_sent`` / ``end.sum_received`` -> {seconds, bytes, bps, retransmits} (None if absent)."""
    if not s:
        return None
    return {'seconds': s.get('seconds'), 'bytes': s.get('bytes'), 'bps': s.get('bits_per_second'),
            'retransmits': s.get('retransmits')}


# ------------------------------------------------------------------------------------------ ovs-ofctl
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
    """An ovs-ofctl counter: an int, or None for ``?`` (not supported by the port)."""
    return None if s == '?' else int(s)

"""The implementation of mininet/fabric.py (the entry point, documented in its module docstring).

    build.py     the Fabric: builds the Mininet leaf-spine network (addressing, link shaping),
                 topology(), the node lookups and process bookkeeping, teardown
    commands.py  the JSON command handlers and their dispatch (handle)
    parse.py     the ovs-ofctl / iperf3 JSON parsers and small shell helpers (run, link_names)

Imported by fabric.py, whose directory is on sys.path when it runs as a script; needs Debian's python3
(the one with the mininet module).
"""

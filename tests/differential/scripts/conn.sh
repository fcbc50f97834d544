#!/bin/bash
# TCP connect to a closed port on loopback (connection refused), twice
exec 2>/dev/null
: 3<>/dev/tcp/127.0.0.1/9 2>/dev/null
: 3<>/dev/tcp/127.0.0.1/9 2>/dev/null
exit 0

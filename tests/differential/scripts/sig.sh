#!/bin/sh
# self-signals with traps, then a child killed with SIGTERM
trap 'x=1' USR1
trap 'x=2' USR2
trap 'x=3' HUP
kill -USR1 $$
kill -USR2 $$
kill -HUP $$
kill -USR1 $$
/bin/sleep 10 &
c=$!
/bin/sleep 0.3
kill -TERM $c
wait $c
exit 0

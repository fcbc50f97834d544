#!/bin/sh
# three short sleeps in child processes
/bin/sleep 0.05
/bin/sleep 0.1
/bin/sleep 0.15
exit 0

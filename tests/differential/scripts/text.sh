#!/bin/sh
# known strings written with the printf builtin (one write each) to /dev/null
exec > /dev/null
printf 'alpha\n'
printf 'beta\n'
printf 'gamma delta\n'
printf 'tab\there\n'
printf '\001\002\003end\n'
exit 0

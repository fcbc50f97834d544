#!/bin/sh
# runs /bin/true five times and /bin/echo three times (silently)
i=0
while [ $i -lt 5 ]; do
  /bin/true
  i=$((i+1))
done
/bin/echo one > /dev/null
/bin/echo two three > /dev/null
/bin/echo four five six > /dev/null
exit 0

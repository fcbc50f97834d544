#!/bin/sh
# children exiting with various status codes
/bin/true
/bin/false
/bin/sh -c 'exit 3'
/bin/sh -c 'exit 42'
/usr/bin/test -e /nonexistent
exit 0

exec >/dev/null
cd @DIR@/cmd/w
: > o1
/bin/chown 1:2 o1
/bin/chgrp 3 o1
/usr/bin/fallocate -l 16384 o1
/usr/bin/mkfifo -m 640 ff
/usr/bin/install -m 751 /dev/null inst
/bin/rm -f o1 ff inst

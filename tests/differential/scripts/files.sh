#!/bin/sh
# deterministic file activity: create, read, count, remove
D=@DIR@/scratch/files
/bin/rm -rf $D
/bin/mkdir -p $D
printf 'hello world\n' > $D/a.txt
printf 'line1\nline2\nline3\n' > $D/b.txt
/bin/cat $D/a.txt $D/b.txt > /dev/null
/usr/bin/wc -l $D/b.txt > /dev/null
/usr/bin/head -c 5 $D/a.txt > /dev/null
/bin/rm -rf $D
exit 0

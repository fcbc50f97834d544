#!/bin/sh
# create, chmod, link, rename, truncate, copy and remove files in a scratch dir
D=@DIR@/scratch/fsops
/bin/rm -rf $D
/bin/mkdir -p $D/sub
/usr/bin/touch $D/f1
/bin/chmod 640 $D/f1
/bin/ln -s f1 $D/link1
/bin/mv $D/f1 $D/f2
/usr/bin/truncate -s 4096 $D/f2
/bin/cp $D/f2 $D/f3
/bin/rm -f $D/link1 $D/f2 $D/f3
/bin/rmdir $D/sub $D
exit 0

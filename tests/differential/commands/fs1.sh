exec >/dev/null
cd @DIR@/cmd/w
umask 022
echo alpha > f1
echo beta >> f1
/bin/cat f1 > f2
/bin/mkdir -p d1/d2
/bin/mv f2 d1/f3
/bin/ln -s f1 l1
/bin/ln f1 h1
/usr/bin/readlink l1
/bin/chmod 600 f1
/usr/bin/truncate -s 100 f1
/bin/rm -f l1 h1 d1/f3 f1
/bin/rmdir d1/d2 d1

#!/bin/sh
# Recreate the data files that corpus cases read (idempotent).
set -e
B="$1"
mkdir -p $B/data/empty $B/data/tree/a/b $B/data/tree/c $B/bin $B/tmp
printf 'alpha beta gamma\n' > $B/data/hello.txt
printf 'config_value=42\nmode=fast\n' > $B/data/config.txt
seq 1 10 | sed 's/^/line /' > $B/data/lines.txt
head -c 10000 /dev/zero | tr '\0' 'x' > $B/data/blob.bin
cp $B/data/blob.bin $B/data/blob2.bin
: > $B/data/tree/a/one; : > $B/data/tree/a/b/two; : > $B/data/tree/c/three
printf 'x' > $B/data/mode.txt; chmod 0640 $B/data/mode.txt
truncate -s 4096 $B/data/trunc.dat
mkdir -p $B/data/exists
printf '#define SHARED_LIMIT 99\n#define SHARED_NAME "common"\n' > $B/data/common.h
cat > $B/bin/work.sh <<'SH'
#!/bin/sh
# deterministic child workload; all output to /dev/null
/bin/cat @DIR@/data/hello.txt > /dev/null
/bin/dd if=/dev/zero of=/dev/null bs=1024 count=3 status=none
/bin/sleep 0.05
/bin/true
/bin/false || :
SH
cat > $B/bin/loop.sh <<'SH'
#!/bin/sh
i=0
while [ $i -lt 5 ]; do
  /bin/true
  i=$((i+1))
done
SH
cat > $B/bin/exit3.sh <<'SH'
#!/bin/sh
exit 3
SH
chmod +x $B/bin/*.sh
cat > $B/bin/rw.pl <<'PL'
#!/usr/bin/perl
# write blocks of distinct sizes to /dev/null, read back a data file
use strict;
open(my $out, '>', '/dev/null') or die;
for my $n (1 .. 12) {
    syswrite($out, 'z' x ($n * 100));
}
close($out);
open(my $in, '<', '@DIR@/data/lines.txt') or die;
my $buf;
while (sysread($in, $buf, 16) > 0) { }
close($in);
select(undef, undef, undef, 0.05);
exit(0);
PL
cat > $B/bin/forks.pl <<'PL'
#!/usr/bin/perl
# fork three children that exit with codes 1..3, reap them in order
use strict;
for my $c (1 .. 3) {
    my $pid = fork();
    if ($pid == 0) { exit($c); }
    waitpid($pid, 0);
}
exit(0);
PL
chmod +x $B/bin/*.pl

exec >/dev/null
/bin/rm -f @DIR@/cmd/w/dd.out
/usr/bin/dd if=/dev/zero of=@DIR@/cmd/w/dd.out bs=4096 count=3 status=none
/bin/sync @DIR@/cmd/w/dd.out
/bin/rm -f @DIR@/cmd/w/dd.out

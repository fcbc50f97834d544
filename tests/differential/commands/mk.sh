exec >/dev/null
/bin/rm -rf @DIR@/cmd/w/m1
/usr/bin/mkdir -p @DIR@/cmd/w/m1/m2/m3
/usr/bin/rm -r @DIR@/cmd/w/m1

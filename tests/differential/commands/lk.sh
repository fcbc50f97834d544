exec >/dev/null
/usr/bin/flock @DIR@/cmd/w/lockfile /bin/true
/usr/bin/flock -s @DIR@/cmd/w/lockfile /bin/true

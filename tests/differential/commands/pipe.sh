exec >/dev/null
/bin/echo one two three | /usr/bin/tr a-z A-Z | /usr/bin/wc -c
/usr/bin/seq 1 10 | /usr/bin/sort -rn | /usr/bin/head -3

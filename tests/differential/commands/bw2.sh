exec >/dev/null
x=$(( 2 + 3 ))
cd /tmp
pwd
echo $x
/bin/sleep 0.5

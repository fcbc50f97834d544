exec >/dev/null
cd @DIR@/cmd/w
umask 077
cd /
pwd
x=$((3 * 7 + 1))
echo $x
trap 'echo got usr1' USR1
kill -USR1 $$
trap 'echo got usr2' USR2
kill -s USR2 $$
read a b < @DIR@/cmd/data.txt
echo "$b-$a"
exit 7

exec >/dev/null
f() { echo "f:$1"; return $(( $1 + 1 )); }
for i in 1 2 3; do f $i; done
y=$(( 6 * 7 ))
z=$(( y / 2 - 1 ))
test -d /tmp && echo dir
[ 5 -gt 3 ] && echo gt
declare -a arr=(x y z)
echo ${arr[1]} ${#arr[@]}
cd @DIR@/cmd
pwd
/bin/true a b c
let q=9*9
echo $q
printf '%s=%d\n' q $q
kill -l 15
unset y
echo done

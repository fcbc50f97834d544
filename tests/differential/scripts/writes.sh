#!/bin/sh
# dash builtin printf: one write(2) per statement, sizes 1,2,4,...,1024
exec > /dev/null
printf 'a'
printf 'ab'
printf 'abcd'
printf '%8s' x
printf '%16s' x
printf '%32s' x
printf '%64s' x
printf '%128s' x
printf '%256s' x
printf '%512s' x
printf '%1024s' x
exit 0

#!/bin/bash
# bash builtins and functions, silent
greet() { echo "hello $1" > /dev/null; }
for n in alpha beta gamma; do greet $n; done
X=1; Y=2; Z=$((X+Y))
printf '%d\n' $Z > /dev/null
echo done > /dev/null
/bin/true
exit 0

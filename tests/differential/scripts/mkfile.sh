#!/bin/sh
# writes a small result file that stays in place, then reads it back silently
D=@DIR@/scratch/mkfile
/bin/mkdir -p $D
printf 'result=42\n' > $D/result.txt
/bin/cat $D/result.txt > /dev/null
exit 0

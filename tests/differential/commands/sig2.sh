exec >/dev/null
trap 'echo hup' HUP
trap 'echo int' INT
kill -HUP $$
kill -INT $$
kill -TERM $$
echo unreachable

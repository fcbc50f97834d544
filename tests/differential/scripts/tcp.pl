#!/usr/bin/perl
# loopback TCP: listen on 127.0.0.1:47123, connect, send "ping", reply "pong!", close
use strict; use Socket;
socket(my $srv, PF_INET, SOCK_STREAM, 0) or die;
setsockopt($srv, SOL_SOCKET, SO_REUSEADDR, 1);
bind($srv, sockaddr_in(47123, inet_aton("127.0.0.1"))) or die "bind";
listen($srv, 5) or die;
socket(my $cli, PF_INET, SOCK_STREAM, 0) or die;
connect($cli, sockaddr_in(47123, inet_aton("127.0.0.1"))) or die "connect";
accept(my $conn, $srv) or die;
syswrite($cli, "ping");
my $buf; sysread($conn, $buf, 100);
syswrite($conn, "pong!");
sysread($cli, $buf, 100);
close($cli); close($conn); close($srv);
exit 0;

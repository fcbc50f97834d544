open(STDOUT, ">", "/dev/null");
sub twice { return $_[0] * 2; }
my @a = map { twice($_) } (1, 2, 3);
my $s = join(",", @a);
print "$s\n";
my @w = split(/:/, "a:bb:ccc");
print scalar(@w), "\n";
my @sorted = sort { $b <=> $a } (5, 3, 9);
print "@sorted\n";
select(undef, undef, undef, 0.3);

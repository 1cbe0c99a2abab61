use strict;
use warnings;
my %h = (first => 'O', second => 'K');
print $h{first} . $h{second} . "\n";

program Main;

var
  s: string;

begin
  s := 'O';
  s := s + 'K';
  writeln(s);
end.

import std.array : join;
import std.stdio : writeln;

void main()
{
    writeln(["O", "K"].join());
}

using System;
using System.Collections.Generic;
using System.Linq;

public class Program
{
    public static void Main(string[] args)
    {
        var parts = new List<string> { "K", "O" };
        Console.WriteLine(string.Concat(parts.OrderByDescending(s => s)));
    }
}
